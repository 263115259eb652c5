"""The keeper's exceptions, rooted in one base class so callers can catch the keeper's own
failures apart from everything else."""


class KeeperError(Exception):
    """Base of every error the keeper raises on purpose."""


class ConfigError(KeeperError):
    """A missing or wrong configuration key; the message names the key."""


class DeploymentNotFound(KeeperError):
    """No deployments file for the network; the message says what to run first."""


class StoreError(KeeperError):
    """The keeper's SQLite mirror is unreadable or from another chain or deployment."""


class NodeUnreachable(KeeperError):
    """The network's node could not be reached at start-up; the message says where and what to do."""


class ChainChanged(KeeperError):
    """The node now serves another chain than the one the mirror indexed (another chain id, or a
    deployment record that names another Vault): the keeper stops, it cannot serve both."""


class DeploymentPending(KeeperError):
    """The chain under the keeper was replaced and Gavel is not (yet) deployed on it at the
    recorded addresses: the keeper waits for `ape run deploy` to record it."""
