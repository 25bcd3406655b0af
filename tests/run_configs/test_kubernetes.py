from __future__ import annotations

import pytest

from prefect.run_configs import KubernetesRun

JOB_YAML = """
apiVersion: batch/v1
kind: Job
spec:
  template:
    spec:
      containers:
        - name: flow
"""
JOB = {
    "apiVersion": "batch/v1",
    "kind": "Job",
    "spec": {"template": {"spec": {"containers": [{"name": "flow"}]}}},
}


def test_defaults():
    config = KubernetesRun()
    for attr in (
        "job_template_path",
        "job_template",
        "image",
        "cpu_limit",
        "cpu_request",
        "memory_limit",
        "memory_request",
        "service_account_name",
        "image_pull_secrets",
        "image_pull_policy",
        "env",
    ):
        assert getattr(config, attr) is None, attr
    assert config.labels == set()


def test_all_arguments_are_stored():
    config = KubernetesRun(
        job_template=JOB,
        image="img",
        env={"A": "1"},
        cpu_limit="2",
        cpu_request="500m",
        memory_limit="4G",
        memory_request="2G",
        service_account_name="sa",
        image_pull_secrets=("one", "two"),
        labels=["k8s"],
        image_pull_policy="Always",
    )
    assert config.job_template == JOB
    assert config.image == "img"
    assert config.cpu_limit == "2"
    assert config.cpu_request == "500m"
    assert config.memory_limit == "4G"
    assert config.memory_request == "2G"
    assert config.service_account_name == "sa"
    assert config.image_pull_secrets == ["one", "two"]
    assert config.image_pull_policy == "Always"


def test_numeric_cpu_values_are_stored_as_text():
    config = KubernetesRun(cpu_limit=2, cpu_request=0.5)
    assert config.cpu_limit == "2"
    assert config.cpu_request == "0.5"


def test_job_template_given_as_yaml_text_is_parsed():
    assert KubernetesRun(job_template=JOB_YAML).job_template == JOB


def test_job_template_yaml_must_be_a_mapping():
    with pytest.raises(ValueError, match="job_template"):
        KubernetesRun(job_template="- a\n- b\n")


@pytest.mark.parametrize("prefix", ["", "file://", "local://"])
def test_local_job_template_path_is_read_now(tmp_path, prefix):
    path = tmp_path / "job.yaml"
    path.write_text(JOB_YAML)
    config = KubernetesRun(job_template_path=prefix + str(path))
    assert config.job_template == JOB
    assert config.job_template_path is None


def test_relative_local_path_is_read_from_the_working_directory(tmp_path, monkeypatch):
    (tmp_path / "job.yaml").write_text(JOB_YAML)
    monkeypatch.chdir(tmp_path)
    assert KubernetesRun(job_template_path="job.yaml").job_template == JOB


def test_missing_local_job_template_path_fails_now(tmp_path):
    with pytest.raises(FileNotFoundError):
        KubernetesRun(job_template_path=str(tmp_path / "nope.yaml"))


@pytest.mark.parametrize(
    "path",
    ["s3://bucket/job.yaml", "gcs://bucket/job.yaml", "https://x/job.yaml", "agent:///job.yaml"],
)
def test_remote_job_template_path_is_kept_for_the_agent(path):
    config = KubernetesRun(job_template_path=path)
    assert config.job_template_path == path
    assert config.job_template is None


def test_job_template_and_path_together_are_refused():
    with pytest.raises(ValueError, match="`job_template_path` and `job_template`"):
        KubernetesRun(job_template_path="s3://b/job.yaml", job_template=JOB)


def test_unknown_image_pull_policy_is_refused():
    with pytest.raises(ValueError, match="image_pull_policy"):
        KubernetesRun(image_pull_policy="Sometimes")


@pytest.mark.parametrize("policy", ["Always", "IfNotPresent", "Never"])
def test_known_image_pull_policies_are_accepted(policy):
    assert KubernetesRun(image_pull_policy=policy).image_pull_policy == policy
