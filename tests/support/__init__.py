"""Test helpers shared by the apps' tests (one module per app); conftest
files keep only fixtures.  Factories are in tests/factories.py, the browser
fixture in tests/browser.py."""
