"""Every ORM table, imported here so Alembic and the tests see the whole metadata."""

from limelight.db.models.audit import AuditEntry, AuditHead
from limelight.db.models.auth import LoginFailure
from limelight.db.models.datasets import Dataset, DatasetVersion
from limelight.db.models.events import Event
from limelight.db.models.experiments import Experiment, ExperimentExposure
from limelight.db.models.jobs import Job, JobLog
from limelight.db.models.marketplace import ModelShare, ModelStar, ModelUsageDaily
from limelight.db.models.metering import OrgQuota, UsageHour
from limelight.db.models.monitoring import ShownItemWeek, TrafficRollup
from limelight.db.models.registry import Deployment, Model, ModelAlias, ModelVersion
from limelight.db.models.tenancy import ApiKey, Invitation, Membership, Org, UiSession, User

__all__ = [
    "ApiKey",
    "AuditEntry",
    "AuditHead",
    "Dataset",
    "DatasetVersion",
    "Deployment",
    "Event",
    "Experiment",
    "ExperimentExposure",
    "Invitation",
    "Job",
    "JobLog",
    "LoginFailure",
    "Membership",
    "Model",
    "ModelAlias",
    "ModelShare",
    "ModelStar",
    "ModelUsageDaily",
    "ModelVersion",
    "Org",
    "OrgQuota",
    "ShownItemWeek",
    "TrafficRollup",
    "UiSession",
    "UsageHour",
    "User",
]
