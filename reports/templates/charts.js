// Draws every chart of the page from the JSON in #chart-specs with Chart.js (inlined above).
// A spec is {id, type, data, options}; axes may name a tick format ("si", "percent", "us",
// "ratio") that is turned into a callback here, since JSON cannot hold functions. When done,
// <body data-charts-ready="N"> tells a headless browser that N charts were drawn.
(function () {
  'use strict';
  function si(value) {
    const v = Math.abs(value);
    if (v >= 1e9) return (value / 1e9).toFixed(v >= 1e10 ? 0 : 1) + 'G';
    if (v >= 1e6) return (value / 1e6).toFixed(v >= 1e7 ? 0 : 1) + 'M';
    if (v >= 1e3) return (value / 1e3).toFixed(v >= 1e4 ? 0 : 1) + 'k';
    return String(Math.round(value * 100) / 100);
  }
  const formats = {
    si: si,
    percent: function (v) { return (v > 0 ? '+' : '') + Math.round(v) + '%'; },
    us: function (v) { return si(v) + ' µs'; },
    ns: function (v) { return si(v) + ' ns'; },
    ratio: function (v) { return (Math.round(v * 100) / 100) + '×'; },
  };
  function isRound(value) {
    const mantissa = value / Math.pow(10, Math.floor(Math.log10(value) + 1e-9));
    return [1, 2, 5].some(function (m) { return Math.abs(mantissa - m) < 1e-6; });
  }
  function applyFormats(options) {
    const scales = (options && options.scales) || {};
    Object.keys(scales).forEach(function (axis) {
      const ticks = scales[axis].ticks;
      if (ticks && typeof ticks.format === 'string' && formats[ticks.format]) {
        const f = formats[ticks.format];
        delete ticks.format;
        ticks.callback = function (value, index, all) {
          // Category axes pass an index: show the label then.
          if (this.type === 'category') return this.getLabelForValue(value);
          if (this.type === 'logarithmic') {
            // Label 1, 2 and 5 times a power of ten (or every other tick on a short axis where
            // fewer than three of those fall); the other grid lines stay unlabelled.
            const round = all.filter(function (t) { return isRound(t.value); }).length;
            if (round >= 3 ? !isRound(value) : index % 2 !== 0) return '';
          }
          return f(value);
        };
      }
    });
    return options;
  }
  const specs = JSON.parse(document.getElementById('chart-specs').textContent);
  Chart.defaults.animation = false;
  Chart.defaults.maintainAspectRatio = false;
  Chart.defaults.font.family = 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
  let drawn = 0;
  specs.forEach(function (spec) {
    const canvas = document.getElementById(spec.id);
    if (!canvas) return;
    new Chart(canvas, { type: spec.type, data: spec.data, options: applyFormats(spec.options || {}) });
    canvas.setAttribute('data-drawn', '1');
    drawn += 1;
  });
  document.body.setAttribute('data-charts-ready', String(drawn));
})();
