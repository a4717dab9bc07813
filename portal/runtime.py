"""Owns what the portal's handlers and services share at run time: one `Runtime` per hub.

Every field is a service made up front by `portal.runtime_factory.build_runtime`; nothing is
attached later, so a handler never meets a half-built runtime.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .access.groups import GroupGuard
from .access.sudo import SudoMode
from .audit.log import AuditLog
from .auth.account_batches import AccountBatches
from .auth.account_states import AccountStates
from .auth.email_addresses import EmailAddresses
from .auth.sign_in_tickets import SignInTickets
from .auth.two_factor import TwoFactor
from .broadcast.broadcaster import Broadcaster
from .docker.service import DockerService
from .governance.cull_policy import CullPolicyStore
from .governance.culling import Culler
from .governance.environment_service import EnvironmentService
from .governance.gpu import GpuService
from .governance.image_updates import ImageUpdates
from .governance.lab_exits import ExitReports
from .governance.limits import LimitsService
from .governance.usage import UsageCollector
from .insights.history import UsageHistory
from .insights.quotas import QuotaService
from .insights.storage_warnings import StorageWarnings
from .lab.volume_sizes import VolumeSizes
from .operations.in_flight import Operations
from .operations.live_updates import LiveUpdates
from .operations.shared_renders import SharedRenders
from .platform.mail import Mailer
from .platform.settings import Settings
from .store.database import PortalStore
from .swarm.view import SwarmView


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    docker: DockerService
    store: PortalStore
    operations: Operations
    audit: AuditLog
    live: LiveUpdates
    group_guard: GroupGuard
    volume_sizes: VolumeSizes
    # Password confirmations for actions that grant host power (portal/access/sudo.py).
    sudo: SudoMode
    limits: LimitsService
    # What labs start from (image, default limits, GPU, variables), chosen at each start.
    environments: EnvironmentService
    # Whether a lab's tag names a newer image than its container's; the images labs use.
    images: ImageUpdates
    exits: ExitReports
    usage: UsageCollector
    # Usage over time: the samples rolled up per hour and day, in the store (portal/insights).
    history: UsageHistory
    # Storage soft quotas and lab hours per month, per group member (portal/insights/quotas.py).
    quotas: QuotaService
    # Past the storage soft quota: one warning into the user's lab until back under.
    storage_warnings: StorageWarnings
    # The hub-wide GPU decision (ENABLE_GPU_SUPPORT=2: pending while the probe runs).
    gpu: GpuService
    # Notification broadcast: the hub's one credential for reaching every lab.
    broadcaster: Broadcaster
    cull_policy: CullPolicyStore
    culler: Culler
    # Disabled accounts, and accounts that must choose a new password (portal/auth).
    accounts: AccountStates
    # Two-factor sign-in (TOTP, recovery codes, the admins' rule for host power) and the
    # sign-ins waiting for their code (portal/auth).
    two_factor: TwoFactor
    sign_in_tickets: SignInTickets
    # Accounts from a CSV: previews, batches being created, credentials handed out once.
    batches: AccountBatches
    # Mail through SMTP_HOST (off while it is empty): queued, sent on a thread, retried.
    mail: Mailer
    # Accounts' own email addresses (My account), else the one given at sign-up.
    emails: EmailAddresses
    # What the hub knows of its swarm (node listing, labs being placed, node engines); made
    # in every mode, used in Swarm mode (portal/swarm/view.py).
    swarm: SwarmView
    # The admin table's rows as rendered, shared by the open admin pages reloading them.
    tables: SharedRenders = field(default_factory=SharedRenders)

    def __deepcopy__(self, memo: dict) -> Runtime:
        # traitlets deep-copies the config; the runtime (thread pool, client) is one shared object.
        return self
