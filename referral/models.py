"""Every table of the service, imported in one place so `Base.metadata` is complete.

Alembic's environment, the test fixtures and `referral init-db` import this module; application
code imports models from their own domain package.
"""

from referral.audit.models import AuditAction, AuditEntry
from referral.cases.models import (
    CaseNote,
    CaseTransfer,
    Consent,
    Contract,
    Exit,
    ExternalReferent,
    FollowUp,
    HealthRecord,
    Need,
    Participant,
    RenewalDecision,
)
from referral.db import Base
from referral.ecosystem.models import NetworkFigures
from referral.partners.models import (
    AgendaItem,
    Criterion,
    NationalNetwork,
    NetworkMeeting,
    OfficeHour,
    Opportunity,
    OpportunityRevision,
    Partner,
    PartnerContact,
    PartnerTerritory,
    Workshop,
)
from referral.reference.models import Domain, DomainSubtype, ReferenceCode
from referral.referrals.models import Referral, ReferralTransition
from referral.scheduling.models import SchedulerLease
from referral.tasks.models import Notification, Task
from referral.territories.models import (
    ApiToken,
    Invitation,
    LoginAttempt,
    PasswordReset,
    RecoveryCode,
    Structure,
    Territory,
    User,
)

metadata = Base.metadata

__all__ = [
    "AgendaItem",
    "ApiToken",
    "AuditAction",
    "AuditEntry",
    "CaseNote",
    "CaseTransfer",
    "Consent",
    "Contract",
    "Criterion",
    "Domain",
    "DomainSubtype",
    "Exit",
    "ExternalReferent",
    "FollowUp",
    "HealthRecord",
    "Invitation",
    "LoginAttempt",
    "NationalNetwork",
    "NetworkFigures",
    "Notification",
    "Need",
    "NetworkMeeting",
    "OfficeHour",
    "Opportunity",
    "OpportunityRevision",
    "Participant",
    "PasswordReset",
    "Partner",
    "PartnerContact",
    "PartnerTerritory",
    "RecoveryCode",
    "ReferenceCode",
    "Referral",
    "SchedulerLease",
    "ReferralTransition",
    "RenewalDecision",
    "Structure",
    "Task",
    "Territory",
    "User",
    "Workshop",
    "metadata",
]
