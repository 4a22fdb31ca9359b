// « Précision » follows the chosen domain (progressive enhancement: without this script every
// sub-theme is listed by domain, and the server refuses a sub-theme of another domain).
(function () {
  for (const subtypes of document.querySelectorAll('select[data-follows]')) {
    const domain = document.getElementById(subtypes.dataset.follows);
    if (!domain) continue;
    const sync = () => {
      for (const group of subtypes.querySelectorAll('optgroup')) {
        const shown = !domain.value || group.dataset.domain === domain.value;
        group.hidden = !shown;
        group.disabled = !shown;
      }
      const chosen = subtypes.selectedOptions[0];
      if (chosen && chosen.parentElement.disabled) subtypes.value = '';
    };
    domain.addEventListener('change', sync);
    sync();
  }
})();
