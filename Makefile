.PHONY: dev test lint images build
# Run the platform locally at http://localhost:8000 (labs on <user>.localhost) (installs what is missing first).
dev:
	bash scripts/dev.sh
# Every test: unit, integration (real hub + Docker) and UI (Chromium). Installs what it needs.
test:
	bash scripts/test.sh
lint:
	.venv/bin/ruff check portal tests benchmarks config
images:
	bash scripts/build-images.sh
# The production hub image (dshub-hub:latest); ./start.sh runs the production stack.
build:
	bash build.sh
