.PHONY: demo test check-setup lint pytest

# Build the demo database, run the dunning and serve Odoo on :8069.
demo:
	bash tools/demo.sh

# Every test: lint, pure core, Odoo tests in a throwaway database.
test:
	bash tools/test.sh

# The setup in a clean clone with no Odoo on the PATH (what a fresh machine does).
check-setup:
	bash tools/check_setup.sh

lint:
	.venv/bin/python -m ruff check . && .venv/bin/python -m pylint --rcfile=.pylintrc isp_dunning isp_dunning_spreadsheet_dashboard

pytest:
	.venv/bin/python -m pytest -q -p no:cacheprovider --import-mode=importlib isp_dunning/domain/tests
