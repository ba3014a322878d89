"""Why an agent did not answer. Adapters raise these internally and record them on the trajectory.

    AgentError                  the agent gave no usable answer (raised as is when the tool loop
    │                           runs out of rounds or a Python agent raises)
    ├── AgentTransportError     could not reach it: connection refused, reset, DNS, TLS
    ├── AgentTimeout            no complete answer within the case's timeout
    └── AgentProtocolError      it answered, but not usably
        ├── AgentStatusError    HTTP status >= 400
        └── AgentReplyError     unreadable: not JSON, too large, broke HTTP, or not fitting the mapping

One place (``trailcheck.agents._trial.run_trial``) turns them into the trajectory: AgentTimeout (or the
trial's own deadline) gives status ``timeout``, every other AgentError status ``errored``, with
the error's message as the reason. The case is then errored, never passed, and the run goes on.
Messages name the URL and the cause, and never carry a secret (API keys are redacted).

Configuration problems are not agent failures: they raise ``trailcheck.agents.config.AgentConfigError``
before any trial runs.
"""


class AgentError(Exception):
    """The agent did not give a usable answer."""


class AgentTransportError(AgentError):
    """The agent could not be reached."""


class AgentTimeout(AgentError):
    """The agent did not answer within the timeout."""


class AgentProtocolError(AgentError):
    """The agent answered, but not in a usable way."""


class AgentStatusError(AgentProtocolError):
    """The agent answered with an HTTP error status."""


class AgentReplyError(AgentProtocolError):
    """The agent's reply could not be read or mapped."""
