"""load_settings(environ): defaults, normalisation, rejections and the lab environment."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal.platform.settings import VARIABLES, Settings, SettingsError, load_settings
from portal.platform.settings_choices import DeletedUserVolumes, GpuMode

# Portal logic that JupyterHub's line does not change: the other line's pass leaves it out.
pytestmark = pytest.mark.default_line_only

# variable -> (Settings field, parsed default)
DEFAULTS = {
    "JUPYTERHUB_ADMIN": ("admin", "admin"),
    "JUPYTERHUB_BASE_URL": ("base_url", "/"),
    "DOCKER_NOTEBOOK_IMAGE": ("notebook_image", "stellars/stellars-jupyterlab-ds:latest"),
    "DOCKER_NETWORK_NAME": ("network_name", "jupyterhub_network"),
    "ENABLE_JUPYTERHUB_SSL": ("ssl", False),
    "ENABLE_GPU_SUPPORT": ("gpu_mode", GpuMode.OFF),
    "ENABLE_SIGNUP": ("signup", True),
    "TF_CPP_MIN_LOG_LEVEL": ("tf_log_level", "3"),
    "NVIDIA_AUTODETECT_IMAGE": ("gpu_probe_image", "nvidia/cuda:12.9.1-base-ubuntu24.04"),
    "JUPYTERHUB_CUSTOM_LOGO_URI": ("logo_uri", ""),
    "JUPYTERHUB_DATA_DIR": ("data_dir", "/data"),
    "JUPYTERHUB_DATABASE_URL": ("hub_db_url", ""),
    "PORTAL_DATABASE_URL": ("portal_db_url", ""),
    "JUPYTERHUB_HOST": ("hostnames", ()),
    "AUDIT_RETENTION_DAYS": ("audit_retention_days", 365),
    "DELETED_USER_VOLUMES": ("deleted_user_volumes", DeletedUserVolumes.REMOVE),
    "JUPYTERHUB_SUBDOMAIN_HOST": ("subdomain_host", ""),
    "SUDO_MODE_MINUTES": ("sudo_minutes", 5),
    "SIGNUP_MAX_PENDING": ("max_pending_signups", 50),
    "EVENT_STREAMS_MAX": ("event_streams_max", 2000),
    "JUPYTERHUB_TLS_PROXY": ("tls_proxy", False),
    "LAB_MEMORY_LIMIT": ("lab_memory", None),
    "LAB_CPU_LIMIT": ("lab_cpus", None),
    "NAMED_SERVERS_MAX": ("named_servers_max", 0),
    "LAB_USAGE_INTERVAL": ("usage_interval", 30.0),
    "USAGE_HOURLY_DAYS": ("usage_hourly_days", 31),
    "USAGE_HISTORY_DAYS": ("usage_history_days", 730),
    "USAGE_FLUSH_INTERVAL": ("usage_flush_interval", 60.0),
    "IDLE_CULL_AFTER": ("idle_cull_after", 0.0),
    "IDLE_CULL_WARNING": ("idle_cull_warning", 1800.0),
    "IDLE_CULL_KEEP_MAX": ("idle_keep_max", 28800.0),
    "IDLE_CULL_EXEMPT_GROUPS": ("idle_exempt_groups", ()),
    "DOCKER_SWARM": ("swarm", False),
    "DOCKER_HOST": ("docker_host", ""),
    "DOCKER_CGROUP_ROOT": ("docker_cgroup_root", "/sys/fs/cgroup"),
    "SMTP_HOST": ("smtp_host", ""),
    "SMTP_PORT": ("smtp_port", 587),
    "SMTP_SECURITY": ("smtp_security", "starttls"),
    "SMTP_USER": ("smtp_user", ""),
    "SMTP_PASSWORD": ("smtp_password", ""),
    "MAIL_FROM": ("mail_from", ""),
    "ADMIN_EMAILS": ("admin_emails", ()),
    "TWO_FACTOR_KEY": ("two_factor_key", ""),
}

# The raw default each variable documents in VARIABLES.
RAW_DEFAULTS = {
    "JUPYTERHUB_ADMIN": "admin",
    "JUPYTERHUB_BASE_URL": "/",
    "DOCKER_NOTEBOOK_IMAGE": "stellars/stellars-jupyterlab-ds:latest",
    "DOCKER_NETWORK_NAME": "jupyterhub_network",
    "ENABLE_JUPYTERHUB_SSL": "0",
    "ENABLE_GPU_SUPPORT": "0",
    "ENABLE_SIGNUP": "1",
    "TF_CPP_MIN_LOG_LEVEL": "3",
    "NVIDIA_AUTODETECT_IMAGE": "nvidia/cuda:12.9.1-base-ubuntu24.04",
    "JUPYTERHUB_CUSTOM_LOGO_URI": "",
    "JUPYTERHUB_DATA_DIR": "/data",
    "JUPYTERHUB_DATABASE_URL": "",
    "PORTAL_DATABASE_URL": "",
    "JUPYTERHUB_HOST": "",
    "AUDIT_RETENTION_DAYS": "365",
    "DELETED_USER_VOLUMES": "remove",
    "JUPYTERHUB_SUBDOMAIN_HOST": "",
    "SUDO_MODE_MINUTES": "5",
    "SIGNUP_MAX_PENDING": "50",
    "EVENT_STREAMS_MAX": "2000",
    "JUPYTERHUB_TLS_PROXY": "0",
    "LAB_MEMORY_LIMIT": "",
    "LAB_CPU_LIMIT": "",
    "NAMED_SERVERS_MAX": "0",
    "LAB_USAGE_INTERVAL": "30s",
    "USAGE_HOURLY_DAYS": "31",
    "USAGE_HISTORY_DAYS": "730",
    "USAGE_FLUSH_INTERVAL": "1m",
    "IDLE_CULL_AFTER": "0",
    "IDLE_CULL_WARNING": "30m",
    "IDLE_CULL_KEEP_MAX": "8h",
    "IDLE_CULL_EXEMPT_GROUPS": "",
    "DOCKER_SWARM": "0",
    "DOCKER_HOST": "",
    "DOCKER_CGROUP_ROOT": "/sys/fs/cgroup",
    "SMTP_HOST": "",
    "SMTP_PORT": "587",
    "SMTP_SECURITY": "starttls",
    "SMTP_USER": "",
    "SMTP_PASSWORD": "",
    "MAIL_FROM": "",
    "ADMIN_EMAILS": "",
    "TWO_FACTOR_KEY": "",
}


def test_tables_cover_every_variable():
    names = [v.name for v in VARIABLES]
    assert len(names) == len(set(names))
    assert set(names) == set(DEFAULTS) == set(RAW_DEFAULTS)


@pytest.mark.parametrize("variable", VARIABLES, ids=lambda v: v.name)
def test_variable_documents_its_default(variable):
    assert variable.default == RAW_DEFAULTS[variable.name]
    assert variable.accepts
    assert variable.effect


@pytest.mark.parametrize(("name", "expected"), sorted(DEFAULTS.items()))
def test_default_when_environment_is_empty(name, expected):
    field_name, value = expected
    settings = load_settings({})
    actual = getattr(settings, field_name)
    assert actual == value
    assert type(actual) is type(value)


@pytest.mark.parametrize(("name", "expected"), sorted(DEFAULTS.items()))
def test_explicit_default_equals_absent_variable(name, expected):
    field_name, value = expected
    settings = load_settings({name: RAW_DEFAULTS[name]})
    assert getattr(settings, field_name) == value


def test_empty_environment_settings_as_a_whole():
    settings = load_settings({})
    assert isinstance(settings, Settings)
    assert settings.ssl is False
    assert settings.gpu_mode == 0
    assert settings.signup is True
    assert settings.base_url == "/"
    assert settings.services == {}
    assert settings.host_network is False


def test_none_reads_the_process_environment(monkeypatch):
    monkeypatch.setenv("JUPYTERHUB_ADMIN", "root-from-env")
    monkeypatch.setenv("ENABLE_GPU_SUPPORT", "2")
    settings = load_settings()
    assert settings.admin == "root-from-env"
    assert settings.gpu_mode == 2


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("", "/"),
        ("/", "/"),
        ("jupyterhub", "/jupyterhub/"),
        ("/jupyterhub", "/jupyterhub/"),
        ("jupyterhub/", "/jupyterhub/"),
        ("/jupyterhub/", "/jupyterhub/"),
        ("  /jupyterhub/  ", "/jupyterhub/"),
        ("a/b", "/a/b/"),
        ("/a/b/", "/a/b/"),
    ],
)
def test_base_url_is_normalised(raw, expected):
    assert load_settings({"JUPYTERHUB_BASE_URL": raw}).base_url == expected


@pytest.mark.parametrize(
    ("name", "raw", "field_name", "expected"),
    [
        ("ENABLE_GPU_SUPPORT", "0", "gpu_mode", GpuMode.OFF),
        ("ENABLE_GPU_SUPPORT", "1", "gpu_mode", GpuMode.ON),
        ("ENABLE_GPU_SUPPORT", "2", "gpu_mode", GpuMode.DETECT),
        ("ENABLE_SIGNUP", "0", "signup", False),
        ("ENABLE_SIGNUP", "1", "signup", True),
        ("ENABLE_JUPYTERHUB_SSL", "1", "ssl", True),
        ("TF_CPP_MIN_LOG_LEVEL", "0", "tf_log_level", "0"),
        ("DOCKER_NETWORK_NAME", "host", "network_name", "host"),
        ("DOCKER_NETWORK_NAME", "my_net.1-a", "network_name", "my_net.1-a"),
        ("JUPYTERHUB_ADMIN", "john.doe", "admin", "john.doe"),
        ("JUPYTERHUB_DATA_DIR", "/srv/hub/", "data_dir", "/srv/hub"),
        ("JUPYTERHUB_DATA_DIR", "/", "data_dir", "/"),
        ("JUPYTERHUB_CUSTOM_LOGO_URI", "https://x/logo.svg", "logo_uri", "https://x/logo.svg"),
        ("JUPYTERHUB_CUSTOM_LOGO_URI", "file:///srv/logo.png", "logo_uri", "file:///srv/logo.png"),
        (
            "JUPYTERHUB_CUSTOM_LOGO_URI",
            "data:image/png;base64,AA",
            "logo_uri",
            "data:image/png;base64,AA",
        ),
        ("DOCKER_NOTEBOOK_IMAGE", "lab:1.0", "notebook_image", "lab:1.0"),
        ("NVIDIA_AUTODETECT_IMAGE", "probe:2", "gpu_probe_image", "probe:2"),
        ("JUPYTERHUB_HOST", "Hub.Example.org.", "hostnames", ("hub.example.org",)),
        ("DELETED_USER_VOLUMES", "archive", "deleted_user_volumes", DeletedUserVolumes.ARCHIVE),
        ("JUPYTERHUB_HOST", "hub, 203.0.113.7,::1", "hostnames", ("hub", "203.0.113.7", "::1")),
        ("JUPYTERHUB_SUBDOMAIN_HOST", "https://Hub.Example.org/", "subdomain_host",
         "https://hub.example.org"),
        ("JUPYTERHUB_SUBDOMAIN_HOST", "http://localhost:8000", "subdomain_host",
         "http://localhost:8000"),
        ("SUDO_MODE_MINUTES", "0", "sudo_minutes", 0),
        ("SUDO_MODE_MINUTES", "1440", "sudo_minutes", 1440),
        ("DOCKER_SWARM", "1", "swarm", True),
        ("DOCKER_HOST", "unix:///tmp/d2/sock", "docker_host", "unix:///tmp/d2/sock"),
        ("DOCKER_HOST", "tcp://203.0.113.7:2376", "docker_host", "tcp://203.0.113.7:2376"),
        ("DOCKER_CGROUP_ROOT", "/host/cgroup/", "docker_cgroup_root", "/host/cgroup"),
        ("DOCKER_CGROUP_ROOT", "", "docker_cgroup_root", ""),
        ("SMTP_HOST", "Mail.Example.org", "smtp_host", "mail.example.org"),
        ("SMTP_PORT", "465", "smtp_port", 465),
        ("SMTP_SECURITY", "tls", "smtp_security", "tls"),
        ("MAIL_FROM", "hub@example.org", "mail_from", "hub@example.org"),
        ("ADMIN_EMAILS", "a@example.org, b@example.org", "admin_emails",
         ("a@example.org", "b@example.org")),
    ],
)
def test_accepted_values_are_parsed(name, raw, field_name, expected):
    actual = getattr(load_settings({name: raw}), field_name)
    assert actual == expected
    assert type(actual) is type(expected)


def test_host_network_property():
    assert load_settings({"DOCKER_NETWORK_NAME": "host"}).host_network is True


@pytest.mark.parametrize(
    ("name", "raw", "message"),
    [
        (
            "ENABLE_GPU_SUPPORT",
            "5",
            "ENABLE_GPU_SUPPORT='5' is not valid: "
            "accepted values are 0 (off), 1 (on) or 2 (detect)",
        ),
        (
            "ENABLE_GPU_SUPPORT",
            "",
            "ENABLE_GPU_SUPPORT='' is not valid: accepted values are 0 (off), 1 (on) or 2 (detect)",
        ),
        ("ENABLE_SIGNUP", "yes", "ENABLE_SIGNUP='yes' is not valid: accepted values are 0 or 1"),
        (
            "ENABLE_JUPYTERHUB_SSL",
            "true",
            "ENABLE_JUPYTERHUB_SSL='true' is not valid: accepted values are 0 or 1",
        ),
        (
            "TF_CPP_MIN_LOG_LEVEL",
            "4",
            "TF_CPP_MIN_LOG_LEVEL='4' is not valid: accepted values are 0, 1, 2 or 3",
        ),
        (
            "DOCKER_NETWORK_NAME",
            "my net",
            "DOCKER_NETWORK_NAME='my net' is not valid: "
            "accepted values are a Docker network name, or host",
        ),
        (
            "JUPYTERHUB_ADMIN",
            "ad/min",
            "JUPYTERHUB_ADMIN='ad/min' is not valid: "
            "accepted values are a user name: 1 to 128 characters, no spaces, control "
            "characters or , / & ? # %",
        ),
        (
            "JUPYTERHUB_ADMIN",
            "ad min",
            "JUPYTERHUB_ADMIN='ad min' is not valid: "
            "accepted values are a user name: 1 to 128 characters, no spaces, control "
            "characters or , / & ? # %",
        ),
        (
            "DELETED_USER_VOLUMES",
            "keep",
            "DELETED_USER_VOLUMES='keep' is not valid: accepted values are remove or archive",
        ),
        (
            "JUPYTERHUB_DATA_DIR",
            "data",
            "JUPYTERHUB_DATA_DIR='data' is not valid: accepted values are an absolute path",
        ),
        (
            "PORTAL_DATABASE_URL",
            "portal.sqlite",
            "PORTAL_DATABASE_URL='portal.sqlite' is not valid: "
            "accepted values are empty, or an SQLAlchemy database URL",
        ),
        (
            "JUPYTERHUB_CUSTOM_LOGO_URI",
            "ftp://x",
            "JUPYTERHUB_CUSTOM_LOGO_URI='ftp://x' is not valid: "
            "accepted values are empty, or an https://, file:// or data: URI",
        ),
        (
            "JUPYTERHUB_CUSTOM_LOGO_URI",
            "http://x/logo.png",
            "JUPYTERHUB_CUSTOM_LOGO_URI='http://x/logo.png' is not valid: "
            "accepted values are empty, or an https://, file:// or data: URI",
        ),
        (
            "DOCKER_NOTEBOOK_IMAGE",
            "",
            "DOCKER_NOTEBOOK_IMAGE='' is not valid: accepted values are a Docker image reference",
        ),
        (
            "NVIDIA_AUTODETECT_IMAGE",
            "a b",
            "NVIDIA_AUTODETECT_IMAGE='a b' is not valid: "
            "accepted values are a Docker image reference containing nvidia-smi",
        ),
        (
            "JUPYTERHUB_BASE_URL",
            "a?b",
            "JUPYTERHUB_BASE_URL='a?b' is not valid: "
            "accepted values are a URL path such as /, jupyterhub or /jupyterhub/",
        ),
        (
            "JUPYTERHUB_BASE_URL",
            "a//b",
            "JUPYTERHUB_BASE_URL='a//b' is not valid: "
            "accepted values are a URL path such as /, jupyterhub or /jupyterhub/",
        ),
        (
            "JUPYTERHUB_HOST",
            "hub example.org",
            "JUPYTERHUB_HOST='hub example.org' is not valid: "
            "accepted values are empty, or host names / IP addresses separated by commas",
        ),
        (
            "DOCKER_HOST",
            "/var/run/docker.sock",
            "DOCKER_HOST='/var/run/docker.sock' is not valid: "
            "accepted values are empty, or a unix://, tcp://, ssh:// or npipe:// URL",
        ),
        (
            "DOCKER_CGROUP_ROOT",
            "sys/fs/cgroup",
            "DOCKER_CGROUP_ROOT='sys/fs/cgroup' is not valid: "
            "accepted values are empty, or an absolute path",
        ),
        (
            "ADMIN_EMAILS",
            "ops@example.org, nobody",
            "ADMIN_EMAILS='ops@example.org, nobody' is not valid: "
            "accepted values are empty, or addresses separated by commas",
        ),
        (
            "SMTP_SECURITY",
            "ssl",
            "SMTP_SECURITY='ssl' is not valid: accepted values are starttls, tls or none",
        ),
        (
            "ENABLE_SERVICE_MLFLOW",
            "yes",
            "ENABLE_SERVICE_MLFLOW='yes' is not valid: accepted values are 0 or 1",
        ),
    ],
)
def test_rejection_message(name, raw, message):
    with pytest.raises(SettingsError) as caught:
        load_settings({name: raw})
    error = caught.value
    assert str(error) == message
    assert "\n" not in str(error)
    assert error.name == name
    assert error.value == raw
    assert isinstance(error, ValueError)


def test_first_bad_variable_is_reported_alone():
    # Only one error, naming one of the bad variables; the good ones do not matter.
    with pytest.raises(SettingsError) as caught:
        load_settings({"ENABLE_SIGNUP": "maybe", "ENABLE_GPU_SUPPORT": "1"})
    assert caught.value.name == "ENABLE_SIGNUP"


SERVICES = {
    "ENABLE_SERVICE_MLFLOW": "1",
    "ENABLE_SERVICE_TENSORBOARD": "0",
    "ENABLE_SERVICE_GLANCES": "1",
    "ENABLE_SERVICE_SOMETHING_FROM_THE_FUTURE": "1",
}


def test_every_service_switch_reaches_the_lab_environment():
    environ = {
        **SERVICES,
        "TF_CPP_MIN_LOG_LEVEL": "1",
        "ENABLE_GPU_SUPPORT": "2",
        "PATH": "/usr/bin",
        "HOME": "/root",
        "JUPYTERHUB_ADMIN": "boss",
        "DOCKER_NOTEBOOK_IMAGE": "lab:1",
        "ENABLE_SIGNUP": "0",
        "ENABLE_SERVICE_": "1",  # the bare prefix names no service
        "XENABLE_SERVICE_X": "1",
    }
    settings = load_settings(environ)
    assert settings.services == SERVICES
    assert settings.lab_environment() == {
        **SERVICES,
        "TF_CPP_MIN_LOG_LEVEL": "1",
        "ENABLE_GPU_SUPPORT": "2",
        "NVIDIA_DETECTED": "0",
    }


@pytest.mark.parametrize(("detected", "flag"), [(True, "1"), (False, "0")])
def test_lab_environment_reports_gpu_detection(detected, flag):
    env = load_settings({"ENABLE_GPU_SUPPORT": "1"}).lab_environment(gpu_detected=detected)
    assert env["NVIDIA_DETECTED"] == flag
    assert env["ENABLE_GPU_SUPPORT"] == "1"
    assert env["TF_CPP_MIN_LOG_LEVEL"] == "3"


def test_lab_environment_without_services_has_only_the_fixed_keys():
    env = load_settings({"PATH": "/bin", "ENABLE_SIGNUP": "1"}).lab_environment()
    assert env == {"TF_CPP_MIN_LOG_LEVEL": "3", "ENABLE_GPU_SUPPORT": "0", "NVIDIA_DETECTED": "0"}


def test_lab_environment_does_not_alias_settings_services():
    settings = load_settings({"ENABLE_SERVICE_MLFLOW": "1"})
    settings.lab_environment()["ENABLE_SERVICE_MLFLOW"] = "0"
    assert settings.services == {"ENABLE_SERVICE_MLFLOW": "1"}


@pytest.mark.parametrize("name", ["ENABLE_GPU_SUPPORT", "JUPYTERHUB_BASE_URL"])
@given(raw=st.text())
def test_any_text_is_settings_or_settings_error(name, raw):
    try:
        settings = load_settings({name: raw})
    except SettingsError as error:
        assert error.name == name
        assert error.value == raw
        assert str(error).startswith(f"{name}={raw!r} is not valid: accepted values are ")
        assert "\n" not in str(error)
    else:
        assert isinstance(settings, Settings)
        if name == "ENABLE_GPU_SUPPORT":
            assert settings.gpu_mode in (0, 1, 2)
        else:
            assert settings.base_url.startswith("/")
            assert settings.base_url.endswith("/")


def test_store_url_defaults_to_sqlite_in_the_data_dir():
    assert load_settings({"JUPYTERHUB_DATA_DIR": "/srv/d"}).store_url == "sqlite:////srv/d/portal.sqlite"
    url = "sqlite:////var/lib/portal.db"
    assert load_settings({"PORTAL_DATABASE_URL": url}).store_url == url


@pytest.mark.parametrize("raw", ["localhost", "http://127.0.0.1:8000", "https://hub/path",
                                 "ftp://hub.example.org", "http://hub:99999", "https://a b",
                                 "https://user@hub.example.org", "https://hub.example.org?x=1"])
def test_subdomain_host_must_be_an_origin_with_a_host_name(raw):
    with pytest.raises(SettingsError, match="JUPYTERHUB_SUBDOMAIN_HOST"):
        load_settings({"JUPYTERHUB_SUBDOMAIN_HOST": raw})


@pytest.mark.parametrize("raw", ["-1", "1441", "five", "", "2.5"])
def test_sudo_minutes_are_whole_minutes_up_to_a_day(raw):
    with pytest.raises(SettingsError, match="SUDO_MODE_MINUTES"):
        load_settings({"SUDO_MODE_MINUTES": raw})
def test_hub_database_defaults_to_sqlite_in_the_data_dir():
    settings = load_settings({"JUPYTERHUB_DATA_DIR": "/srv/d"})
    assert settings.hub_database_url == "sqlite:////srv/d/jupyterhub.sqlite"


@pytest.mark.parametrize("name", ["JUPYTERHUB_DATABASE_URL", "PORTAL_DATABASE_URL"])
@pytest.mark.parametrize(("raw", "url"), [
    ("postgresql://hub:s3cr%40t@db:5432/dshub", "postgresql+psycopg://hub:s3cr%40t@db:5432/dshub"),
    ("postgres://hub@db/dshub", "postgresql+psycopg://hub@db/dshub"),
    ("postgresql+psycopg://hub@db/dshub", "postgresql+psycopg://hub@db/dshub"),
])
def test_postgresql_urls_get_the_installed_driver(name, raw, url):
    settings = load_settings({name: raw})
    hub, store = settings.hub_database_url, settings.store_url
    assert (hub if name == "JUPYTERHUB_DATABASE_URL" else store) == url
