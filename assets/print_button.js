// The 打印 button of the evaluation sheet (pages/performance/sheet.py): prints the page. A file under assets/, bound
// by id, so that no inline script or eval is needed (CSP without 'unsafe-eval').
if (!window.hbbPrintBound) {
  window.hbbPrintBound = true;
  document.addEventListener("click", (event) => {
    if (event.target instanceof Element && event.target.closest("#sheet-print")) {
      window.print();
    }
  });
}
