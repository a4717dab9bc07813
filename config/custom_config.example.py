# Your own hub configuration (production): copy to config/custom_config.py and mount it with
# compose_override.yml (see compose_override.example.yml). It runs the image's configuration
# first, so everything set by environment variables still applies; then change what you need.
c = get_config()  # noqa: F821 (provided by JupyterHub when it loads this file)
load_subconfig("/srv/jupyterhub/jupyterhub_config.py")  # noqa: F821

# One-line descriptions of the volumes, shown in the portal.
c.PortalSpawner.volume_descriptions = {
    "home": "Your home directory: settings, shell history, installed tools",
    "workspace": "Projects and notebooks (backed up nightly)",
    "cache": "Downloaded packages and models; safe to reset",
    "shared": "Shared with every user of the hub",
}

# Extra volumes in every lab, read-only: host path or volume name -> mount point. (The hub
# passes the source to Docker as is: a host path here is a path on the Docker host.)
c.PortalSpawner.read_only_volumes = {"/srv/datasets": "/mnt/datasets"}

# The first environments users choose from at start (added while the portal holds none; then
# kept in the portal: Admin -> Environments). The images must already be on the engine.
# c.Environments.initial = [
#     {"name": "python", "description": "JupyterLab", "image": "dshub-lab:latest", "memory": "4G"},
#     {"name": "plain", "image": "dshub-lab-noext:latest", "groups": ["teachers"]},
# ]

# Resource limits per lab.
c.PortalSpawner.mem_limit = "16G"
c.PortalSpawner.cpu_limit = 4.0

# Prometheus: a service whose token may read /hub/metrics and nothing else (docs/operations.md,
# "Metrics"). Put PROMETHEUS_TOKEN (e.g. `openssl rand -hex 32`) in .env and the same value in
# Prometheus' credentials file.
# import os
# c.JupyterHub.services.append({"name": "prometheus", "api_token": os.environ["PROMETHEUS_TOKEN"]})
# c.JupyterHub.load_roles.append({"name": "prometheus", "scopes": ["read:metrics"],
#                                 "services": ["prometheus"]})
