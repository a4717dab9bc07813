"""Owns building the `Runtime`: every service made once, up front, from the settings.

`portal.setup` calls it with the real Docker client and store; tests pass fakes for those.
"""

from __future__ import annotations

from dataclasses import replace

from .access.groups import GroupGuard
from .access.sudo import SUDO_API_PATH, SudoMode
from .audit.log import SYSTEM_ACTOR, AuditLog
from .auth.account_batches import AccountBatches
from .auth.account_states import AccountStates
from .auth.email_addresses import EmailAddresses
from .auth.secret_box import SecretBox
from .auth.sign_in_tickets import SignInTickets
from .auth.two_factor import TwoFactor
from .broadcast.broadcaster import Broadcaster, new_broadcaster
from .docker.service import DockerService
from .governance.cull_policy import CullPolicy, CullPolicyStore
from .governance.culling import Culler
from .governance.environment_service import EnvironmentService, ImageEngines
from .governance.gpu import GpuService
from .governance.image_updates import ImageUpdates
from .governance.lab_exits import ExitReports
from .governance.limits import Limits, LimitsService
from .governance.usage import LabUsage, UsageCollector
from .insights.history import UsageHistory
from .insights.quotas import QuotaService
from .insights.storage_warnings import StorageWarnings
from .lab.volume_sizes import VolumeSizes
from .operations.in_flight import Operations, key_parts
from .operations.live_updates import LiveUpdates
from .platform.mail import Mailer, SmtpServer
from .platform.settings import Settings
from .platform.upstream import HubUser
from .runtime import Runtime
from .servers.actions import HubActions, HubCall, stop_server
from .store.database import PortalStore
from .swarm.nodes import manager_url
from .swarm.view import SwarmView


def build_runtime(settings: Settings, *, docker: DockerService | None = None,
                  store: PortalStore | None = None,
                  broadcaster: Broadcaster | None = None) -> Runtime:
    """The complete runtime; `docker`, `store` and `broadcaster` default to the real ones."""
    docker = docker or DockerService()
    docker.cgroup_root = settings.docker_cgroup_root  # usage read from cgroup files where it can
    swarm = SwarmView(docker, manager_url())

    async def one_engine() -> list[tuple[str, DockerService]]:
        return [("this hub's Docker engine", docker)]

    # Where an environment's image must be: the one engine, or every Swarm node taking labs.
    image_engines: ImageEngines = swarm.image_engines if settings.swarm else one_engine

    store = store or PortalStore(settings.store_url)
    # Two-factor secrets at rest: the key from TWO_FACTOR_KEY or the data directory, read on
    # the store's thread at its first use (the migration that seals older secrets uses it too).
    box = SecretBox.from_settings(settings.two_factor_key, settings.data_dir)
    store.migration_attributes["two_factor_box"] = box
    operations = Operations()
    audit = AuditLog(store)
    volume_sizes = VolumeSizes(docker)
    broadcaster = broadcaster or new_broadcaster(store, audit)
    default_policy = CullPolicy(settings.idle_cull_after, settings.idle_cull_warning,
                                settings.idle_keep_max, settings.idle_exempt_groups)
    cull_policy = CullPolicyStore(store, audit, default_policy)
    gpu = GpuService(settings, docker)
    limits = LimitsService(store, audit, Limits(settings.lab_memory, settings.lab_cpus),
                           settings.named_servers_max)
    history = UsageHistory(
        store, settings.usage_interval, flush_every=settings.usage_flush_interval,
        hourly_days=settings.usage_hourly_days, keep_days=settings.usage_history_days,
        gpus_held=lambda: bool(gpu.status and gpu.status.enabled))
    quotas = QuotaService(store, audit)
    storage_warnings = StorageWarnings(quotas, broadcaster, audit)

    def after_usage_pass(samples: dict[str, LabUsage]) -> None:
        history.observe(samples.items())  # by server key: each server its own rows
        # The storage quota is the user's: their servers' volumes, each counted once.
        per_user = {key_parts(key)[0]: usage for key, usage in samples.items()}
        storage_warnings.observe({user: replace(usage, volumes=collector.user_volumes(user))
                                  for user, usage in per_user.items()})

    collector = UsageCollector(docker, settings.usage_interval, sizes=volume_sizes,
                               on_pass=after_usage_pass)

    async def stop_idle(user: HubUser, server: str, hub_stop: HubCall) -> None:
        # The same rules as a user's Stop (servers/actions.py), recorded as the system's.
        await stop_server(user, operations, HubActions(spawn=hub_stop, stop=hub_stop,
                                                       public_url="", actor=SYSTEM_ACTOR,
                                                       server=server))

    return Runtime(
        settings=settings,
        docker=docker,
        store=store,
        operations=operations,
        audit=audit,
        live=LiveUpdates(operations, most=settings.event_streams_max),
        group_guard=GroupGuard(store, audit),
        volume_sizes=volume_sizes,
        sudo=SudoMode(settings.sudo_minutes, audit, settings.base_url + SUDO_API_PATH),
        limits=limits,
        environments=EnvironmentService(store, audit, limits, gpu, image_engines),
        images=ImageUpdates(image_engines),
        swarm=swarm,
        exits=ExitReports(operations, audit),
        usage=collector,
        history=history,
        quotas=quotas,
        storage_warnings=storage_warnings,
        gpu=gpu,
        broadcaster=broadcaster,
        cull_policy=cull_policy,
        culler=Culler(cull_policy, operations, audit, broadcaster, stop_idle),
        accounts=AccountStates(store),
        emails=EmailAddresses(store),
        two_factor=TwoFactor(store, box=box),
        sign_in_tickets=SignInTickets(),
        batches=AccountBatches(),
        mail=Mailer(SmtpServer(settings.smtp_host, settings.smtp_port, settings.smtp_security,
                               settings.smtp_user, settings.smtp_password, settings.mail_from)
                    if settings.smtp_host else None, settings.admin_emails),
    )
