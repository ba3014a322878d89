"""Why an agent did not answer. Adapters raise these internally and record them on the trajectory.

    AgentError                  the agent did not give a usable answer
    ├── AgentTransportError     could not reach it: connection refused, reset, DNS, TLS
    ├── AgentTimeout            no complete answer within the case's timeout
    └── AgentProtocolError      it answered, but not usably
        ├── AgentStatusError    HTTP status >= 400
        └── AgentReplyError     unreadable body: not JSON, too large, or not fitting the mapping

A trajectory whose trial hit one of these has status `timeout` (AgentTimeout) or `errored`
(the rest), with the error's message as its reason; the case is errored, never passed.
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
