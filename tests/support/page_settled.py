"""When a portal page has finished loading in a browser (the UI tests, benchmarks.page_weight):
no htmx placeholder still waits for its first load and no htmx request is out."""

SETTLED = """() => ![...document.querySelectorAll('[hx-trigger]')].some(
  e => /^load\\b/.test(e.getAttribute('hx-trigger'))) && !document.querySelector('.htmx-request')"""
