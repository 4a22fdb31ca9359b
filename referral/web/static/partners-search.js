/* Search of the partner network as you type (« Réseau » page).
 *
 * The page works without this script: the search box is a GET form. With it, results come from
 * the JSON API (/api/v1/partners/search and /api/v1/opportunities/search, with the page's session
 * cookie) while typing, and replace the server-rendered lists. Text is set with textContent only.
 */
(function () {
  "use strict";

  var input = document.getElementById("recherche-reseau");
  var results = document.getElementById("resultats-recherche");
  var everything = document.getElementById("reseau-complet");
  var status = document.getElementById("recherche-statut");
  if (!input || !results || !window.fetch) {
    return;
  }
  var partnersUrl = input.getAttribute("data-partners-url");
  var offersUrl = input.getAttribute("data-offers-url");
  var partnerPage = input.getAttribute("data-partner-page");
  var offerPage = input.getAttribute("data-offer-page");
  var timer = null;
  var latest = 0;

  function pageFor(template, id) {
    return template.replace(/\/0$/, "/" + encodeURIComponent(id));
  }

  function fetchHits(url, query) {
    return fetch(url + "?limit=10&q=" + encodeURIComponent(query), {
      credentials: "same-origin",
      headers: { Accept: "application/json" }
    }).then(function (response) {
      return response.ok ? response.json() : [];
    });
  }

  function fill(list, hits, label, describe, emptyText) {
    while (list.firstChild) {
      list.removeChild(list.firstChild);
    }
    if (!hits.length) {
      var empty = document.createElement("li");
      empty.className = "py-1 text-body-secondary";
      empty.textContent = emptyText;
      list.appendChild(empty);
      return;
    }
    hits.forEach(function (hit) {
      var item = document.createElement("li");
      item.className = "py-1";
      var link = document.createElement("a");
      link.href = label(hit);
      link.textContent = hit.name || hit.title;
      item.appendChild(link);
      var detail = describe(hit);
      if (detail) {
        var extra = document.createElement("span");
        extra.className = "text-body-secondary";
        extra.textContent = " — " + detail;
        item.appendChild(extra);
      }
      list.appendChild(item);
    });
  }

  function search() {
    var query = input.value.trim();
    var mine = ++latest;
    if (query.length < 2) {
      return;
    }
    Promise.all([fetchHits(partnersUrl, query), fetchHits(offersUrl, query)]).then(function (lists) {
      if (mine !== latest) {
        return; // a newer query was typed meanwhile
      }
      fill(
        document.getElementById("resultats-partenaires"),
        lists[0],
        function (hit) { return pageFor(partnerPage, hit.id); },
        function (hit) { return hit.town || ""; },
        "Aucun partenaire ne correspond."
      );
      fill(
        document.getElementById("resultats-opportunites"),
        lists[1],
        function (hit) { return pageFor(offerPage, hit.id); },
        function (hit) { return hit.partner_name; },
        "Aucune opportunité ne correspond."
      );
      results.hidden = false;
      if (everything) {
        everything.hidden = true;
      }
      if (status) {
        status.textContent = lists[0].length + " partenaire(s) et " + lists[1].length + " opportunité(s) trouvé(s).";
      }
    });
  }

  input.addEventListener("input", function () {
    window.clearTimeout(timer);
    timer = window.setTimeout(search, 200);
  });
})();
