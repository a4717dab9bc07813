# DS Hub: environment -> validated settings -> JupyterHub -> portal.setup(c).
# Every variable is described in the README's configuration table.
import logging
import os
import sys

from portal import setup
from portal.branding import configure_logo
from portal.settings import SettingsError, load_settings
from portal.tls import CertificateError, ensure_certificate

c = get_config()  # noqa: F821 (provided by JupyterHub when it loads this file)

try:
    settings = load_settings()
except SettingsError as error:
    # One line naming the variable, the value and what it accepts; no half-configured hub.
    print(f"DS Hub cannot start: {error}", file=sys.stderr)
    sys.exit(2)

# Served under JUPYTERHUB_BASE_URL (normalised to /path/).
c.JupyterHub.base_url = settings.base_url
# Database and cookie secret live in the data directory (a volume in production).
os.makedirs(settings.data_dir, exist_ok=True)
c.JupyterHub.db_url = f"sqlite:///{settings.data_dir}/jupyterhub.sqlite"
c.JupyterHub.cookie_secret_file = f"{settings.data_dir}/jupyterhub_cookie_secret"
# Users' labs keep running while the hub restarts or is upgraded.
c.JupyterHub.cleanup_servers = False

# NativeAuthenticator: accounts with passwords in the hub's own database.
c.JupyterHub.authenticator_class = "native"
# ENABLE_SIGNUP=1: people register and wait for an admin's approval; 0: no signup page at all.
c.NativeAuthenticator.enable_signup = settings.signup
c.NativeAuthenticator.open_signup = False
# The configured admin is an admin and is authorized at sign-up without approval.
c.Authenticator.admin_users = {settings.admin}
# JupyterHub 5 needs an explicit allow rule; NativeAuthenticator's approval stays the gate.
c.Authenticator.allow_all = True
# Sign-in safety: passwords of 8+ characters that are not common ones, and a 5-minute lock
# after 5 failed sign-ins in a row (slows password guessing).
c.NativeAuthenticator.minimum_password_length = 8
c.NativeAuthenticator.check_common_password = True
c.NativeAuthenticator.allowed_failed_logins = 5
c.NativeAuthenticator.seconds_before_next_try = 300

# One Docker container per user, named and mounted by the portal's spawner; with DOCKER_SWARM=1
# one Swarm service per user on the manager DOCKER_HOST names (PortalSwarmSpawner is a
# PortalSpawner, so every c.PortalSpawner setting below applies to it too).
c.JupyterHub.spawner_class = (
    "portal.swarm.PortalSwarmSpawner" if settings.swarm else "portal.spawner.PortalSpawner"
)
c.PortalSpawner.image = settings.notebook_image
c.PortalSpawner.network_name = settings.network_name
c.PortalSpawner.notebook_dir = "/home/lab/workspace"
# Stopping removes the container (volumes stay); each start gets a fresh container.
c.PortalSpawner.remove = True
# Service switches, TensorFlow log level and GPU flags reach every lab.
c.PortalSpawner.environment = settings.lab_environment()
# GPUs: 1 requests them for every lab; 2 lets the probe that setup() starts decide (each start
# waits for it; its bound and image are c.GpuDetection.timeout / NVIDIA_AUTODETECT_IMAGE).
c.PortalSpawner.gpu_enabled = settings.gpu_mode == 1

if settings.host_network:
    # Tests and local runs: everything on loopback, labs on their own ports (HARNESS.md).
    # (ip/port rather than bind_url: JupyterHub rebuilds bind_url whenever base_url is set.)
    c.JupyterHub.ip = "127.0.0.1"
    c.JupyterHub.port = 8000
    c.JupyterHub.hub_ip = "127.0.0.1"
else:
    # Production: the hub container is reached by name on the Docker network.
    c.JupyterHub.hub_ip = "0.0.0.0"
    c.JupyterHub.hub_connect_ip = "jupyterhub"

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
