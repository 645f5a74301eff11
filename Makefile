.PHONY: demo test lint pytest

# Build the demo database, run the dunning and serve Odoo on :8069.
demo:
	bash tools/demo.sh

# Every test: lint, pure core, Odoo tests in a throwaway database.
test:
	bash tools/test.sh

lint:
	python3 -m ruff check . && python3 -m pylint --rcfile=.pylintrc isp_dunning

pytest:
	python3 -m pytest -q -p no:cacheprovider --import-mode=importlib isp_dunning/domain/tests
