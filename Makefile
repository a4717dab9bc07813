.PHONY: dev test stress lint images build
# Run the platform locally at http://localhost:8000 (labs on <user>.localhost) (installs what is missing first).
dev:
	bash scripts/dev.sh
# Every test: unit, integration (real hub + Docker) and UI (Chromium). Installs what it needs.
test:
	bash scripts/test.sh
# The hub restarted 50 times on each JupyterHub line, each start and stop checked for a crash.
stress:
	bash scripts/stress.sh
lint:
	.venv/bin/ruff check portal tests benchmarks config
images:
	bash scripts/build-images.sh
# The production hub image (dshub-hub:latest); ./start.sh runs the production stack.
build:
	bash build.sh
