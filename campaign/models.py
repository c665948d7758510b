"""Every model module, imported once so the metadata (and Alembic) knows every table."""
from .accounts.models import LoginAttempt, LoginSession, User  # noqa: F401
from .api.models import ApiToken  # noqa: F401
from .audit.models import AuditRecord  # noqa: F401
from .campaigns.models import Assignment, Campaign, Instalment, Task  # noqa: F401
from .evidence.models import Evidence, StoredFile  # noqa: F401
from .fieldforms.models import IdempotencyKey  # noqa: F401
from .progress.models import OutboxMessage  # noqa: F401
from .reporting.models import LockException  # noqa: F401
from .summary.models import SummaryFigure, TownshipSummary  # noqa: F401
from .units.models import Unit  # noqa: F401
from .water.models import Hazard, Patrol, WaterPhoto, WaterPoint  # noqa: F401
