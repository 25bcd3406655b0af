"""State-handler helpers that notify on state changes.

The notifiers (Slack, Gmail, Jira, Snowflake) come with the task library issue; the callback
factory behind `on_failure` is here now.
"""

from prefect.utilities.notifications.notifications import callback_factory

__all__ = ["callback_factory"]
