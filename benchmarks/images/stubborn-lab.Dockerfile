# dshubbench-lab-stubborn:latest: the test lab, but PID 1 is a shell that ignores SIGTERM, so
# `docker stop`/`docker restart` waits its full timeout (10 s) and then kills the container.
# (Not the last command of the script, so the shell forks instead of exec'ing the server.)
FROM dshub-lab:latest
CMD ["/bin/sh", "-c", "trap '' TERM; jupyterhub-singleuser \"$@\"; exit $?", "stubborn-lab"]
