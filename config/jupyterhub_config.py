# DS Hub: environment -> validated settings -> JupyterHub -> portal.setup(c).
# Every variable is described in the README's configuration table.
import logging
import os
import sys

from portal import setup
from portal.platform.branding import configure_logo
from portal.platform.healthcheck import edge_address
from portal.platform.settings import SettingsError, load_settings
from portal.platform.settings_choices import GpuMode
from portal.platform.tls import CertificateError, ensure_certificate

c = get_config()  # noqa: F821 (provided by JupyterHub when it loads this file)

try:
    settings = load_settings()
except SettingsError as error:
    # One line naming the variable, the value and what it accepts; no half-configured hub.
    print(f"DS Hub cannot start: {error}", file=sys.stderr)
    sys.exit(2)

# Served under JUPYTERHUB_BASE_URL (normalised to /path/).
c.JupyterHub.base_url = settings.base_url
# Database (SQLite in the data directory, or JUPYTERHUB_DATABASE_URL, e.g. PostgreSQL) and
# cookie secret (data directory, a volume in production).
os.makedirs(settings.data_dir, exist_ok=True)
c.JupyterHub.db_url = settings.hub_database_url
# A database made by an older JupyterHub (e.g. 5.5 -> 6.1) is upgraded at start, only when its
# schema is older; SQLite files are copied to jupyterhub.sqlite.<timestamp> first. Back up
# PostgreSQL yourself before upgrading (docs/operations.md).
c.JupyterHub.upgrade_db = True
c.JupyterHub.cookie_secret_file = f"{settings.data_dir}/jupyterhub_cookie_secret"
# JUPYTERHUB_SUBDOMAIN_HOST: each lab on its own origin <user>.<host> (the proxy routes on the
# Host header), so a lab's code cannot script the hub's pages as an admin who opens it.
if settings.subdomain_host:
    c.JupyterHub.subdomain_host = settings.subdomain_host
    # A lab may set cookies for the parent domain, which browsers send to the hub too: the
    # `__Host-` prefix makes the login cookies ones only their own host can set. Only on an
    # https origin: JupyterHub's labs set their OAuth state cookie without Secure over plain
    # HTTP, and browsers drop a `__Host-` cookie without it (no lab would open in `make dev`).
    c.JupyterHub.cookie_host_prefix_enabled = settings.subdomain_host.startswith("https://")
# Users' labs keep running while the hub restarts or is upgraded.
c.JupyterHub.cleanup_servers = False
# /hub/metrics (JupyterHub's and the portal's dshub_ series) answers only tokens holding
# read:metrics (docs/operations.md, "Metrics"); JupyterHub's default, stated here on purpose.
c.JupyterHub.authenticate_prometheus = True

# Accounts with passwords in the hub's own database: NativeAuthenticator, made safe to expose by
# portal.auth (registered by setup() below; its options here apply to it).
# ENABLE_SIGNUP=1: people register and wait for an admin's approval; 0: no signup page at all.
c.NativeAuthenticator.enable_signup = settings.signup
c.NativeAuthenticator.open_signup = False
# The configured admin is an admin; signing up under that name needs the setup code the hub
# prints at start (portal.auth.setup_code), and is then authorized without approval.
c.Authenticator.admin_users = {settings.admin}
# JupyterHub 5 needs an explicit allow rule; NativeAuthenticator's approval stays the gate.
c.Authenticator.allow_all = True
# Sign-in safety: passwords of 8+ characters that are not common ones. Guessing is slowed per
# client address (c.DSHubAuthenticator.signin_free_failures / signin_max_delay), never by
# locking the account itself, which would let any stranger lock the admin out.
c.NativeAuthenticator.minimum_password_length = 8
c.NativeAuthenticator.check_common_password = True
c.NativeAuthenticator.allowed_failed_logins = 0

# One Docker container per user, named and mounted by the portal's spawner; with DOCKER_SWARM=1
# one Swarm service per user on the manager DOCKER_HOST names (PortalSwarmSpawner is a
# PortalSpawner, so every c.PortalSpawner setting below applies to it too).
c.JupyterHub.spawner_class = (
    "portal.swarm.spawner.PortalSwarmSpawner" if settings.swarm
    else "portal.lab.spawner.PortalSpawner"
)
c.PortalSpawner.image = settings.notebook_image
c.PortalSpawner.network_name = settings.network_name
c.PortalSpawner.notebook_dir = "/home/lab/workspace"
# Stopping removes the container (volumes stay); each start gets a fresh container.
c.PortalSpawner.remove = True
# Service switches, TensorFlow log level and GPU flags reach every lab.
c.PortalSpawner.environment = settings.lab_environment()
# GPUs: ON (1) requests them for every lab; DETECT (2) lets the probe that setup() starts decide
# (each start waits for it; its bound and image are c.GpuDetection.timeout /
# NVIDIA_AUTODETECT_IMAGE).
c.PortalSpawner.gpu_enabled = settings.gpu_mode == GpuMode.ON

if settings.host_network:
    # Tests and local runs: everything on loopback, labs on their own ports (docs/architecture.md).
    # (ip/port rather than bind_url: JupyterHub rebuilds bind_url whenever base_url is set.)
    c.JupyterHub.ip = "127.0.0.1"
    c.JupyterHub.port = 8000
    c.JupyterHub.hub_ip = "127.0.0.1"
else:
    # Production: the labs reach the hub's API by name on their network (DOCKER_NETWORK_NAME).
    c.JupyterHub.hub_ip = "0.0.0.0"
    c.JupyterHub.hub_connect_ip = "jupyterhub"
    # The public port listens only on Traefik's network (compose.yml gives the hub the alias
    # jupyterhub-edge there), so labs cannot reach it; the proxy's API stays on loopback.
    # Elsewhere (no such network) it listens on every interface, as JupyterHub does.
    c.JupyterHub.ip = edge_address() or ""

log = logging.getLogger("JupyterHub")
if settings.ssl:
    # ENABLE_JUPYTERHUB_SSL=1 (no Traefik in front): the public port serves HTTPS with
    # certs/cert.pem + key.pem in the data directory: the operator's own, else self-signed once.
    try:
        tls = ensure_certificate(os.path.join(settings.data_dir, "certs"), settings.hostnames, log)
    except CertificateError as error:
        print(f"DS Hub cannot start: ENABLE_JUPYTERHUB_SSL=1: {error}", file=sys.stderr)
        sys.exit(2)
    c.JupyterHub.ssl_cert, c.JupyterHub.ssl_key = str(tls.cert), str(tls.key)
# JUPYTERHUB_CUSTOM_LOGO_URI replaces {base_url}hub/logo on every page; a bad one is logged
# and the stock logo stays.
configure_logo(c, settings.logo_uri, settings.data_dir, log)

setup(c, settings)
