from prefect import Parameter
from prefect.hello_world import capitalize, hello_flow, name, say_hello


def test_hello_flow_has_a_name_parameter_feeding_capitalize_then_say_hello():
    assert hello_flow.name == "hello-world"
    assert hello_flow.parameters() == {name}
    assert isinstance(name, Parameter) and name.default == "world" and not name.required
    by_name = {t.name: t for t in hello_flow.tasks}
    assert set(by_name) == {"name", "capitalize", "say_hello"}
    assert hello_flow.upstream_tasks(by_name["capitalize"]) == {name}
    assert hello_flow.upstream_tasks(by_name["say_hello"]) == {by_name["capitalize"]}
    assert by_name["say_hello"].log_stdout is True


def test_hello_world_task_functions():
    assert capitalize.run("marvin") == "Marvin"
    assert say_hello.run("Marvin") is None
