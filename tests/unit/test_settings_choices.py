"""GPU mode and the deleted-user volumes policy: the same environment values, typed."""

from __future__ import annotations

import pytest

from portal.platform import settings_parsers
from portal.platform.settings import SettingsError, load_settings
from portal.platform.settings_choices import DeletedUserVolumes, GpuMode

# Portal logic that JupyterHub's line does not change: the other line's pass leaves it out.
pytestmark = pytest.mark.default_line_only


@pytest.mark.parametrize(("raw", "mode", "words", "probes"), [
    ("0", GpuMode.OFF, "off", False),
    ("1", GpuMode.ON, "on", False),
    ("2", GpuMode.DETECT, "detect at hub start", True),
])
def test_gpu_mode_from_the_environment(raw, mode, words, probes):
    settings = load_settings({"ENABLE_GPU_SUPPORT": raw})
    assert settings.gpu_mode is mode
    assert (mode.words, mode.probes) == (words, probes)
    # The labs receive the variable exactly as it was given.
    assert settings.lab_environment()["ENABLE_GPU_SUPPORT"] == raw


@pytest.mark.parametrize("raw", ["3", "-1", " 1", "1 ", "01", "1.0", "on", "", "２"])
def test_gpu_mode_refuses_anything_else_with_the_same_message(raw):
    with pytest.raises(ValueError):
        settings_parsers.gpu_mode(raw)
    with pytest.raises(SettingsError) as error:
        load_settings({"ENABLE_GPU_SUPPORT": raw})
    assert str(error.value) == (f"ENABLE_GPU_SUPPORT={raw!r} is not valid: accepted values are "
                                "0 (off), 1 (on) or 2 (detect)")


@pytest.mark.parametrize(("raw", "policy"), [
    ("remove", DeletedUserVolumes.REMOVE), ("archive", DeletedUserVolumes.ARCHIVE),
])
def test_deleted_user_volumes_from_the_environment(raw, policy):
    assert load_settings({"DELETED_USER_VOLUMES": raw}).deleted_user_volumes is policy
    assert policy == raw and str(policy) == raw


@pytest.mark.parametrize("raw", ["Archive", " remove", "keep", "", "archived"])
def test_deleted_user_volumes_refuses_anything_else_with_the_same_message(raw):
    with pytest.raises(SettingsError) as error:
        load_settings({"DELETED_USER_VOLUMES": raw})
    assert str(error.value) == (f"DELETED_USER_VOLUMES={raw!r} is not valid: accepted values are "
                                "remove or archive")


def test_defaults_are_the_documented_ones():
    settings = load_settings({})
    assert settings.gpu_mode is GpuMode.OFF
    assert settings.deleted_user_volumes is DeletedUserVolumes.REMOVE
