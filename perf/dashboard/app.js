// The perf dashboard: fetches the JSON handlers next to it and draws
// them. No library: the charts are plain SVG built with the DOM. Every
// value from the server is inserted as text, never as markup.
'use strict';

(function () {
  const SVG = 'http://www.w3.org/2000/svg';
  // The JSON handlers live one level above this script
  // (prefix/dashboard/app.js → prefix/summary), whatever the page's URL.
  const base = new URL('../', document.currentScript.src);
  const params = new URLSearchParams(location.search);
  const refreshSeconds = Math.min(Math.max(Number(params.get('refresh')) || 5, 2), 300);

  const $ = (id) => document.getElementById(id);
  let timer = null;

  function token() {
    return sessionStorage.getItem('auth_token') || '';
  }

  async function getJSON(path) {
    const headers = { Accept: 'application/json' };
    const t = token();
    if (t) headers.Authorization = 'Bearer ' + t;
    const resp = await fetch(new URL(path, base), { headers, credentials: 'same-origin', cache: 'no-store' });
    if (resp.status === 401 || resp.status === 403) {
      const err = new Error(resp.status === 401 ? 'not signed in' : 'not allowed');
      err.auth = true;
      throw err;
    }
    if (!resp.ok) throw new Error('HTTP ' + resp.status);
    return resp.json();
  }

  // ---- formatting ----

  function ms(seconds) {
    const v = seconds * 1000;
    if (v >= 100) return v.toFixed(0) + ' ms';
    if (v >= 1) return v.toFixed(1) + ' ms';
    return v.toFixed(3) + ' ms';
  }

  function bytes(n) {
    const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let i = 0;
    while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
    return (i ? n.toFixed(1) : String(n)) + ' ' + units[i];
  }

  function duration(seconds) {
    const s = Math.floor(seconds);
    const d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600), m = Math.floor(s % 3600 / 60);
    if (d) return d + 'd ' + h + 'h';
    if (h) return h + 'h ' + m + 'm';
    if (m) return m + 'm ' + (s % 60) + 's';
    return s + 's';
  }

  function pct(v) { return (v || 0).toFixed(1) + ' %'; }

  function hhmm(date) {
    return date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  }

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function svg(tag, attrs, text) {
    const e = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  // ---- charts ----

  // niceMax rounds a maximum up to 1, 2 or 5 times a power of ten.
  function niceMax(v) {
    if (!(v > 0)) return 1;
    const p = Math.pow(10, Math.floor(Math.log10(v)));
    for (const f of [1, 2, 5, 10]) if (v <= f * p) return f * p;
    return 10 * p;
  }

  function fmtTick(v) {
    if (v >= 100) return v.toFixed(0);
    if (v >= 1) return v.toFixed(1).replace(/\.0$/, '');
    return v.toPrecision(2);
  }

  // lineChart draws series (each {name, cls, points: [[Date, number]]})
  // into an SVG of viewBox 600×200: grid, y ticks, first and last time,
  // one path per series, and a legend.
  function lineChart(node, series) {
    clear(node);
    const W = 600, H = 200, L = 46, R = 8, T = 8, B = 22;
    const all = series.flatMap((s) => s.points);
    if (all.length === 0) {
      node.appendChild(svg('text', { x: W / 2, y: H / 2, class: 'empty', 'text-anchor': 'middle' }, 'no data yet'));
      return;
    }
    const x0 = Math.min(...all.map((p) => p[0].getTime()));
    const x1 = Math.max(...all.map((p) => p[0].getTime()));
    const yMax = niceMax(Math.max(...all.map((p) => p[1])));
    const sx = (t) => L + (x1 === x0 ? (W - L - R) : (t - x0) / (x1 - x0) * (W - L - R));
    const sy = (v) => T + (1 - v / yMax) * (H - T - B);

    for (let i = 0; i <= 4; i++) {
      const v = yMax * i / 4, y = sy(v);
      node.appendChild(svg('line', { x1: L, x2: W - R, y1: y, y2: y, class: 'grid' }));
      node.appendChild(svg('text', { x: L - 4, y: y + 4, class: 'tick', 'text-anchor': 'end' }, fmtTick(v)));
    }
    node.appendChild(svg('text', { x: L, y: H - 4, class: 'tick' }, hhmm(new Date(x0))));
    node.appendChild(svg('text', { x: W - R, y: H - 4, class: 'tick', 'text-anchor': 'end' }, hhmm(new Date(x1))));

    series.forEach((s, i) => {
      if (s.points.length === 0) return;
      const d = s.points.map((p, j) => (j ? 'L' : 'M') + sx(p[0].getTime()).toFixed(1) + ',' + sy(p[1]).toFixed(1)).join(' ');
      node.appendChild(svg('path', { d, class: 'line ' + s.cls, 'data-series': s.name }));
      const lx = L + 8 + i * 70;
      node.appendChild(svg('rect', { x: lx, y: T + 2, width: 10, height: 3, class: 'swatch ' + s.cls }));
      node.appendChild(svg('text', { x: lx + 14, y: T + 7, class: 'legend' }, s.name));
    });
  }

  // gauges draws one bar per [label, percent] into an SVG 600 wide.
  function gauges(node, items) {
    clear(node);
    const rowH = 22, labelW = 130, barW = 380;
    node.setAttribute('viewBox', '0 0 600 ' + Math.max(items.length * rowH, rowH));
    items.forEach(([label, value], i) => {
      const y = i * rowH;
      const v = Math.max(0, Math.min(100, value || 0));
      const level = v > 90 ? 'crit' : v > 70 ? 'warn' : 'ok';
      node.appendChild(svg('text', { x: 0, y: y + 15, class: 'gauge-label' }, label));
      node.appendChild(svg('rect', { x: labelW, y: y + 4, width: barW, height: 14, rx: 3, class: 'gauge-bg' }));
      node.appendChild(svg('rect', { x: labelW, y: y + 4, width: (barW * v / 100).toFixed(1), height: 14, rx: 3, class: 'gauge ' + level, 'data-gauge': label }));
      node.appendChild(svg('text', { x: labelW + barW + 8, y: y + 15, class: 'gauge-value' }, pct(value)));
    });
  }

  // ---- sections ----

  function renderCards(perf) {
    const s = perf.stats;
    const cards = [
      ['Requests', String(s.count)],
      ['Requests/s', s.requests_per_second.toFixed(2)],
      ['Errors', pct(s.error_rate)],
      ['Server errors', pct(s.server_error_rate)],
      ['p50', ms(s.p50_time)],
      ['p95', ms(s.p95_time)],
      ['p99', ms(s.p99_time)],
      ['Slow (≥ ' + perf.slow_threshold_seconds + ' s)', String(s.slow)],
    ];
    const node = $('cards');
    clear(node);
    for (const [label, value] of cards) {
      const card = el('div', 'card');
      card.appendChild(el('div', 'card-label', label));
      card.appendChild(el('div', 'card-value', value));
      node.appendChild(card);
    }
  }

  function renderCharts(perf, win) {
    let points = win === '24h' || win === 'all' ? perf.series['24h'] : perf.series['1h'];
    if (win === '5m') points = points.slice(-5);
    const at = (p) => new Date(p.start);
    // The current slot's rate is noise until some of it has elapsed.
    const rated = points.filter((p, i) => i < points.length - 1 || p.span_seconds >= 15);
    lineChart($('chart-rate'), [
      { name: 'req/s', cls: 's0', points: rated.map((p) => [at(p), p.requests_per_second]) },
    ]);
    lineChart($('chart-errors'), [
      { name: '≥ 400', cls: 's1', points: points.map((p) => [at(p), p.error_rate]) },
      { name: '5xx', cls: 's2', points: points.map((p) => [at(p), p.server_error_rate]) },
    ]);
    lineChart($('chart-latency'), [
      { name: 'p50', cls: 's0', points: points.map((p) => [at(p), p.p50_time * 1000]) },
      { name: 'p95', cls: 's3', points: points.map((p) => [at(p), p.p95_time * 1000]) },
      { name: 'p99', cls: 's2', points: points.map((p) => [at(p), p.p99_time * 1000]) },
    ]);
  }

  function fact(dl, label, value) {
    dl.appendChild(el('dt', '', label));
    dl.appendChild(el('dd', '', value));
  }

  function renderSystem(perf) {
    const health = $('health');
    health.textContent = perf.system_health;
    health.className = 'badge ' + perf.system_health;
    const sys = perf.system;
    const facts = $('system-facts');
    clear(facts);
    if (!sys) {
      gauges($('gauges'), []);
      fact(facts, 'Samples', 'none yet');
      return;
    }
    const items = [['CPU', sys.cpu_percent], ['Memory', sys.memory_percent], ['Swap', sys.swap_percent], ['Disk', sys.disk_percent]];
    if (sys.cgroup) {
      if (sys.cgroup.memory_limit) items.push(['Container memory', sys.cgroup.memory_percent]);
      if (sys.cgroup.cpu_limit_cores) items.push(['Container CPU', sys.cgroup.cpu_percent]);
    }
    gauges($('gauges'), items);
    fact(facts, 'Load', [sys.load1, sys.load5, sys.load15].map((v) => v.toFixed(2)).join(' / ') + ' (' + sys.cpus + ' CPUs)');
    fact(facts, 'Memory available', bytes(sys.memory_available) + ' of ' + bytes(sys.memory_total));
    fact(facts, 'Disk free', bytes(sys.disk_free) + ' of ' + bytes(sys.disk_total) + ' (' + sys.disk_path + ')');
    fact(facts, 'Process RSS', bytes(sys.process.rss));
    fact(facts, 'Process CPU', pct(sys.process.cpu_percent));
    fact(facts, 'Open files', String(sys.process.open_fds));
    fact(facts, 'Goroutines', String(sys.go.goroutines));
    fact(facts, 'GC pause p99', ms(sys.go.gc_pause_p99_seconds));
    fact(facts, 'Uptime', duration(perf.uptime_seconds));
    if (sys.cgroup && sys.cgroup.memory_limit) {
      fact(facts, 'Container memory', bytes(sys.cgroup.memory_usage) + ' of ' + bytes(sys.cgroup.memory_limit));
    }
    if (sys.cgroup && sys.cgroup.throttled_periods) {
      fact(facts, 'CPU throttled', sys.cgroup.throttled_periods + ' periods');
    }
  }

  function renderExtra(extra) {
    const section = $('extra-section');
    const dl = $('extra');
    clear(dl);
    const keys = extra ? Object.keys(extra).sort() : [];
    section.hidden = keys.length === 0;
    for (const k of keys) {
      const v = extra[k];
      fact(dl, k, typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v));
    }
  }

  function row(cells) {
    const tr = document.createElement('tr');
    for (const c of cells) tr.appendChild(el('td', '', c));
    return tr;
  }

  function renderEndpoints(data) {
    const body = $('endpoints').tBodies[0];
    clear(body);
    const entries = Object.entries(data.endpoint_performance).sort((a, b) => b[1].count - a[1].count);
    for (const [key, s] of entries) {
      body.appendChild(row([key, String(s.count), s.requests_per_second.toFixed(2), pct(s.error_rate),
        ms(s.avg_time), ms(s.p50_time), ms(s.p95_time), ms(s.p99_time), ms(s.max_time)]));
    }
    if (entries.length === 0) body.appendChild(row(['no requests in this window']));
  }

  function renderSlow(data) {
    $('slow-threshold').textContent = '(≥ ' + data.threshold_seconds + ' s, newest first)';
    const body = $('slow').tBodies[0];
    clear(body);
    for (const s of data.slow_requests.slice().reverse()) {
      body.appendChild(row([new Date(s.timestamp).toLocaleString(), s.endpoint, String(s.status),
        ms(s.response_time), s.request_id || '–', s.user || '–']));
    }
    if (data.slow_requests.length === 0) body.appendChild(row(['none']));
  }

  function setStatus(text, cls) {
    const s = $('status');
    s.textContent = text;
    s.className = 'status ' + (cls || '');
  }

  async function refresh() {
    clearTimeout(timer);
    const win = $('window').value;
    try {
      const [summary, endpoints, slow] = await Promise.all([
        getJSON('summary?window=' + encodeURIComponent(win)),
        getJSON('endpoints?window=' + encodeURIComponent(win)),
        getJSON('slow-requests?limit=20'),
      ]);
      const perf = summary.performance;
      renderCards(perf);
      renderCharts(perf, win);
      renderSystem(perf);
      renderExtra(perf.extra);
      renderEndpoints(endpoints);
      renderSlow(slow);
      $('token-form').hidden = true;
      setStatus('live', 'ok');
      $('updated').textContent = 'updated ' + new Date().toLocaleTimeString();
      document.body.dataset.loaded = 'true';
    } catch (err) {
      setStatus(err.message, 'error');
      if (err.auth) {
        $('token-form').hidden = false;
        return; // wait for a token
      }
    }
    timer = setTimeout(refresh, refreshSeconds * 1000);
  }

  document.addEventListener('DOMContentLoaded', () => {
    $('token-form').addEventListener('submit', (e) => {
      e.preventDefault();
      const t = $('token').value.trim();
      if (t) sessionStorage.setItem('auth_token', t);
      $('token').value = '';
      refresh();
    });
    $('window').addEventListener('change', refresh);
    refresh();
  });
})();
