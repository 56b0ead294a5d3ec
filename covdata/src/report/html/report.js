// covdata html: sorting, filtering and hiding on the index; jumping between
// uncovered spots and hit counts on hover on file pages. No network and no
// loading of other files: everything the page needs is in its own DOM, so it works from
// file://. Page state lives in the URL fragment (index:
// #sort=COLUMN&dir=asc|desc&q=TEXT&hide=1; file page: #L<line> or #jump=N).
"use strict";
(function () {
  function params() {
    var out = {};
    location.hash.replace(/^#/, "").split("&").forEach(function (kv) {
      if (!kv) return;
      var i = kv.indexOf("=");
      var k = i < 0 ? kv : kv.slice(0, i);
      out[decodeURIComponent(k)] = i < 0 ? "" : decodeURIComponent(kv.slice(i + 1).replace(/\+/g, " "));
    });
    return out;
  }
  function headerHeight() {
    var h = document.querySelector("header");
    if (h) document.documentElement.style.setProperty("--header-h", h.offsetHeight + "px");
  }

  // A cell's sort key: coverage (-1 with nothing to cover), a name, or a
  // number.
  function cellKey(cell) {
    var d = cell.dataset;
    if (d.t !== undefined) return +d.t ? +d.c / +d.t : -1;
    if (d.s !== undefined) return d.s;
    var n = parseFloat(d.n || cell.textContent);
    return isNaN(n) ? cell.textContent : n;
  }

  // A flat table sorted by a click on any column (the function list).
  function flatTable(table) {
    var heads = Array.prototype.slice.call(table.tHead.rows[0].cells);
    var body = table.tBodies[0];
    var sorted = -1, sign = 1;
    heads.forEach(function (h, col) {
      h.addEventListener("click", function () {
        sign = sorted === col ? -sign : 1;
        sorted = col;
        heads.forEach(function (o) { o.removeAttribute("aria-sort"); });
        h.setAttribute("aria-sort", sign > 0 ? "ascending" : "descending");
        var rows = Array.prototype.slice.call(body.rows);
        rows.forEach(function (r, i) { r.pos = i; });
        rows.sort(function (a, b) {
          var x = cellKey(a.cells[col]), y = cellKey(b.cells[col]);
          if (x < y) return -sign;
          if (x > y) return sign;
          return a.pos - b.pos;
        });
        rows.forEach(function (r) { body.appendChild(r); });
      });
    });
  }

  // ---- index ---------------------------------------------------------------
  function indexPage(table) {
    var body = table.tBodies[0];
    var heads = Array.prototype.slice.call(table.tHead.rows[0].cells);
    var rows = Array.prototype.slice.call(body.rows);
    var byId = {};
    var roots = [];
    rows.forEach(function (r) {
      r.kids = [];
      byId[r.dataset.id] = r;
    });
    rows.forEach(function (r) {
      var p = r.dataset.p;
      if (p && byId[p]) { r.up = byId[p]; byId[p].kids.push(r); } else roots.push(r);
    });
    var filter = document.getElementById("filter");
    var hide = document.getElementById("hide-covered");
    var state = { sort: "name", dir: "asc", q: "", hide: false };

    function key(row, col) { return cellKey(row.cells[col]); }
    function sortKids(list, col, sign) {
      list.sort(function (a, b) {
        var x = key(a, col), y = key(b, col);
        if (x < y) return -sign;
        if (x > y) return sign;
        if (col !== 0) {
          var d = (+b.cells[col].dataset.t) - (+a.cells[col].dataset.t);
          if (d) return d;
        }
        var n = a.cells[0].dataset.s, m = b.cells[0].dataset.s;
        return n < m ? -1 : n > m ? 1 : 0;
      });
      list.forEach(function (r) { sortKids(r.kids, col, sign); });
    }
    function fullyCovered(row) {
      for (var i = 1; i < row.cells.length; i++) {
        var d = row.cells[i].dataset;
        if (+d.c !== +d.t) return false;
      }
      return true;
    }
    // Whether the row stays: a file whose path (or crate) matches the
    // filter and that is not hidden as fully covered, or a crate or
    // directory with such a file under it.
    function visit(row, q) {
      var keep = false;
      if (row.kids.length) {
        if (q && row.classList.contains("crate") && row.cells[0].dataset.s.toLowerCase().indexOf(q) >= 0) q = "";
        row.kids.forEach(function (k) { if (visit(k, q)) keep = true; });
      } else {
        keep = (!q || row.dataset.path.toLowerCase().indexOf(q) >= 0) && !(state.hide && fullyCovered(row));
      }
      row.keep = keep;
      return keep;
    }
    function apply() {
      var col = 0;
      heads.forEach(function (h, i) {
        if (h.dataset.col === state.sort) col = i;
        h.removeAttribute("aria-sort");
      });
      heads[col].setAttribute("aria-sort", state.dir === "asc" ? "ascending" : "descending");
      var sign = state.dir === "asc" ? 1 : -1;
      sortKids(roots, col, sign);
      var order = [];
      (function walk(list) {
        list.forEach(function (r) { order.push(r); walk(r.kids); });
      })(roots);
      var frag = document.createDocumentFragment();
      order.forEach(function (r) { frag.appendChild(r); });
      body.appendChild(frag);
      var q = state.q.toLowerCase();
      roots.forEach(function (r) { visit(r, q); });
      order.forEach(function (r) {
        var closed = false;
        for (var u = r.up; u; u = u.up) if (u.classList.contains("closed")) closed = true;
        r.classList.toggle("hidden", !r.keep || closed);
      });
      var none = document.getElementById("no-match");
      if (none) none.hidden = roots.some(function (r) { return r.keep; });
      var h = [];
      if (state.sort !== "name" || state.dir !== "asc") h.push("sort=" + state.sort, "dir=" + state.dir);
      if (state.q) h.push("q=" + encodeURIComponent(state.q));
      if (state.hide) h.push("hide=1");
      history.replaceState(null, "", h.length ? "#" + h.join("&") : location.pathname);
    }
    function load() {
      var p = params();
      if (p.sort && heads.some(function (h) { return h.dataset.col === p.sort; })) state.sort = p.sort;
      if (p.dir === "asc" || p.dir === "desc") state.dir = p.dir;
      state.q = p.q || "";
      state.hide = p.hide === "1";
      filter.value = state.q;
      hide.checked = state.hide;
      apply();
    }
    heads.forEach(function (h) {
      h.addEventListener("click", function () {
        if (state.sort === h.dataset.col) state.dir = state.dir === "asc" ? "desc" : "asc";
        else { state.sort = h.dataset.col; state.dir = "asc"; }
        apply();
      });
    });
    filter.addEventListener("input", function () { state.q = filter.value; apply(); });
    hide.addEventListener("change", function () { state.hide = hide.checked; apply(); });
    body.addEventListener("click", function (e) {
      var t = e.target;
      if (!t.classList.contains("tw")) return;
      var r = t.closest("tr");
      r.classList.toggle("open");
      r.classList.toggle("closed");
      apply();
    });
    document.addEventListener("keydown", function (e) {
      if (e.key === "/" && document.activeElement !== filter) { e.preventDefault(); filter.focus(); }
    });
    window.addEventListener("hashchange", load);
    load();
  }

  // ---- file page -----------------------------------------------------------
  function filePage(table) {
    var rows = table.tBodies[0].rows;
    // Spots: maximal runs of adjacent uncovered or partly covered lines.
    var spots = [];
    var prev = false;
    for (var i = 0; i < rows.length; i++) {
      var bad = rows[i].classList.contains("u") || rows[i].classList.contains("p");
      if (bad && !prev) spots.push([]);
      if (bad) spots[spots.length - 1].push(rows[i]);
      prev = bad;
    }
    var counter = document.getElementById("spot");
    var current = -1;
    function show(i) {
      if (current >= 0) spots[current].forEach(function (r) { r.classList.remove("cur"); });
      current = i;
      spots[i].forEach(function (r) { r.classList.add("cur"); });
      spots[i][0].scrollIntoView({ block: "center" });
      if (counter) counter.textContent = (i + 1) + " of " + spots.length;
    }
    // From no current spot: the first spot below the top of the screen
    // (or the last one above it), so the keys start where the reader is.
    function jump(step) {
      if (!spots.length) return;
      var next;
      if (current < 0) {
        var h = document.querySelector("header");
        var top = h ? h.getBoundingClientRect().bottom : 0;
        next = step > 0 ? 0 : spots.length - 1;
        for (var i = 0; i < spots.length; i++) {
          var y = spots[i][0].getBoundingClientRect().top;
          if (step > 0 && y >= top) { next = i; break; }
          if (step < 0 && y < top) next = i;
        }
      } else {
        next = (current + step + spots.length) % spots.length;
      }
      show(next);
    }
    var nextButton = document.getElementById("next");
    var prevButton = document.getElementById("prev");
    if (nextButton) nextButton.addEventListener("click", function () { jump(1); });
    if (prevButton) prevButton.addEventListener("click", function () { jump(-1); });
    document.addEventListener("keydown", function (e) {
      if (e.ctrlKey || e.metaKey || e.altKey) return;
      if (e.key === "j" || e.key === "n") jump(1);
      else if (e.key === "k" || e.key === "p") jump(-1);
      else return;
      e.preventDefault();
    });
    table.addEventListener("click", function (e) {
      var th = e.target.closest("th");
      if (th) location.hash = "L" + th.textContent;
    });
    // Hit counts on hover: the line's count, or an uncovered region's span.
    var tip = document.getElementById("tip");
    table.addEventListener("mousemove", function (e) {
      var text = "";
      var z = e.target.closest("span.z");
      var row = e.target.closest("tr");
      if (z) {
        text = "region not executed (0 hits), column" + (z.dataset.r.indexOf("\u2013") < 0 ? " " : "s ") + z.dataset.r;
      } else if (row) {
        var n = row.cells[1];
        var line = row.cells[0].textContent;
        if (n.textContent === "") text = "line " + line + ": no code";
        else text = "line " + line + ": " + (n.dataset.n || n.textContent) + (n.textContent === "1" ? " hit" : " hits");
        if (row.classList.contains("p")) text += ", with regions not executed";
        if (row.dataset.b) text += "; branch outcomes taken: " + row.dataset.b;
      }
      if (!text) { tip.style.display = "none"; return; }
      tip.textContent = text;
      tip.style.display = "block";
      tip.style.left = Math.min(e.clientX + 14, window.innerWidth - tip.offsetWidth - 4) + "px";
      tip.style.top = (e.clientY + 16) + "px";
    });
    table.addEventListener("mouseleave", function () { tip.style.display = "none"; });
    var times = parseInt(params().jump, 10);
    if (times > 0 && spots.length) show((times - 1) % spots.length);
  }

  document.addEventListener("DOMContentLoaded", function () {
    headerHeight();
    window.addEventListener("resize", headerHeight);
    var index = document.getElementById("index");
    if (index) indexPage(index);
    var src = document.getElementById("src");
    if (src) filePage(src);
    var functions = document.getElementById("functions");
    if (functions) flatTable(functions);
  });
})();
