# Two commands a newcomer needs: `make run` and `make test`. Both build .venv from scratch when missing.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test install bench clean browser screenshots

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/xinfang serve

test: $(STAMP)
	$(BIN)/python -m pytest -n auto -q

screenshots: $(STAMP)  # the browser tests, writing their pictures into docs/screenshots/ (README shows them)
	XINFANG_SCREENSHOTS=1 $(BIN)/python -m pytest -q tests/browser

browser:  # Debian's chromium and a Chinese font for tests/browser/ (as root; does nothing when present)
	scripts/install-browser.sh

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) instance *.egg-info
