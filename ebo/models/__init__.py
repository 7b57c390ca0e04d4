"""SQLAlchemy models, one module per aggregate; importing this package registers them all.

Conventions: UUID primary keys (AuditEvent: big integer); datetimes via ``UTCDateTime`` (aware UTC);
enumerations as ``String(20)`` + ``StrEnum`` + named CHECK; personal columns carry a classification
comment (docs/security.md S20).
"""

from ebo.models.accounts import AccountToken, MfaRecoveryCode, TokenPurpose, UserMfa
from ebo.models.audit import AuditEvent, AuditLogIsAppendOnly
from ebo.models.card import CARD_LANGUAGES, CardPartner, CardPhoto, CardStatus, PartnerKind, WelcomeCard
from ebo.models.drill import Drill
from ebo.models.family import (
    Family,
    FamilyMember,
    FamilyStatus,
    HealthNote,
    MemberKind,
    PermitDecision,
    Route,
)
from ebo.models.geo import AddressPoint, normalise_street
from ebo.models.host import GeocodeStatus, HomeVisit, HostHousehold, HostState, VettingStatus, VisitOutcome
from ebo.models.matching import (
    ACTIVE_RUN_STATES,
    ForbiddenPair,
    ForbiddenReason,
    MatchingRun,
    Proposal,
    ProposalState,
    RunKind,
    RunState,
    RunUnplaced,
)
from ebo.models.outbox import EmailMessage
from ebo.models.placement import EndReason, FollowUpVisit, Placement
from ebo.models.school import HousingUnit, School
from ebo.models.search import SavedSearch
from ebo.models.settings import MunicipalitySettings
from ebo.models.types import UTCDateTime, add_months, utcnow
from ebo.models.user import STAFF_ROLES, Role, User, new_session_token

__all__ = [
    "ACTIVE_RUN_STATES",
    "CARD_LANGUAGES",
    "AccountToken",
    "MfaRecoveryCode",
    "TokenPurpose",
    "UserMfa",
    "STAFF_ROLES",
    "AddressPoint",
    "AuditEvent",
    "AuditLogIsAppendOnly",
    "CardPartner",
    "CardPhoto",
    "CardStatus",
    "Drill",
    "EmailMessage",
    "EndReason",
    "Family",
    "FamilyMember",
    "FamilyStatus",
    "FollowUpVisit",
    "ForbiddenPair",
    "ForbiddenReason",
    "GeocodeStatus",
    "HealthNote",
    "HomeVisit",
    "HostHousehold",
    "HostState",
    "HousingUnit",
    "MatchingRun",
    "MemberKind",
    "MunicipalitySettings",
    "PartnerKind",
    "PermitDecision",
    "Placement",
    "Proposal",
    "ProposalState",
    "Role",
    "Route",
    "RunKind",
    "RunState",
    "RunUnplaced",
    "SavedSearch",
    "School",
    "UTCDateTime",
    "User",
    "VettingStatus",
    "VisitOutcome",
    "WelcomeCard",
    "add_months",
    "new_session_token",
    "normalise_street",
    "utcnow",
]
