/* The monthly review's charts: each fetches its figure from /api/v1/reports/ and draws it with
   the vendored ECharts. A card's "break down by" choice reloads that chart and its download
   links; the page's filters reload the page (the recurring problems are rendered with it). */
(function () {
  "use strict";
  var L = JSON.parse(document.getElementById("dashboard-labels").textContent);
  var grid = document.querySelector("[data-query]");
  var SCORE_COLORS = ["#cf222e", "#e16f24", "#d4a72c", "#54aeff", "#1a7f37"];
  var charts = {};

  function frame(name) {
    return document.querySelector('[data-chart="' + name + '"]');
  }

  function chart(name) {
    if (!charts[name]) charts[name] = echarts.init(frame(name));
    return charts[name];
  }

  // Tooltips are drawn on the chart's canvas (richText), not as HTML: ECharts' HTML tooltip
  // writes style attributes, which the Content-Security-Policy (style-src 'self') blocks.
  var TOOLTIP = {renderMode: "richText", confine: true};

  function show(name, option, empty) {
    option.title = empty ? {text: L.noData, left: "center", top: "middle",
                            textStyle: {color: "#59636e", fontSize: 13, fontWeight: "normal"}}
                         : {show: false};
    option.tooltip = Object.assign({}, option.tooltip, TOOLTIP);
    chart(name).setOption(option, true);
    frame(name).dataset.state = "drawn";
  }

  function note(name, text) {
    document.querySelector('[data-note="' + name + '"]').textContent = text;
  }

  // No figure (a month or group without tickets) is null in the data and undefined in a
  // tooltip's point.
  function shown(value, unit) {
    return value === null || value === undefined ? "—" : value + (unit || "");
  }

  function categoryAxis(labels) {
    var crowded = labels.length > 6;
    return {type: "category", data: labels,
            axisLabel: crowded ? {interval: 0, rotate: 30} : {interval: 0}};
  }

  function plotArea() {
    return {left: 8, right: 16, top: 40, bottom: 8, containLabel: true};
  }

  function reopenRate(d) {
    var months = d.months.map(function (m) { return m.slice(0, 7); });
    show("reopen-rate", {
      tooltip: {trigger: "axis"}, legend: {top: 0}, grid: plotArea(),
      xAxis: categoryAxis(months),
      yAxis: [{type: "value", name: L.tickets, minInterval: 1},
              {type: "value", name: "%", min: 0, max: 100, splitLine: {show: false}}],
      series: [
        {name: L.closed, type: "bar", data: d.closed, itemStyle: {color: "#54aeff"}},
        {name: L.reopened, type: "bar", data: d.reopened, itemStyle: {color: "#cf222e"}},
        {name: L.reopenRate, type: "line", yAxisIndex: 1, data: d.percent,
         connectNulls: false, itemStyle: {color: "#1f2328"},
         tooltip: {valueFormatter: function (v) { return shown(v, "%"); }}},
      ],
    }, d.total_closed === 0);
    note("reopen-rate", L.reopenNote.replace("{reopened}", d.total_reopened)
      .replace("{closed}", d.total_closed).replace("{percent}", shown(d.overall_percent, "%")));
  }

  function satisfaction(d) {
    var labels = d.groups.map(function (g) { return g.label; });
    var series = [1, 2, 3, 4, 5].map(function (score) {
      return {name: L.score.replace("%d", score), type: "bar", stack: "scores",
              data: d.groups.map(function (g) { return g.scores[score - 1]; }),
              itemStyle: {color: SCORE_COLORS[score - 1]}, emphasis: {focus: "series"}};
    });
    series.push({name: L.average, type: "line", yAxisIndex: 1, connectNulls: false,
                 data: d.groups.map(function (g) { return g.average; }),
                 itemStyle: {color: "#1f2328"}});
    show("satisfaction", {
      tooltip: {trigger: "axis", axisPointer: {type: "shadow"}}, legend: {top: 0},
      grid: plotArea(), xAxis: categoryAxis(labels),
      yAxis: [{type: "value", name: L.ratings, minInterval: 1},
              {type: "value", min: 1, max: 5, splitLine: {show: false}}],
      series: series,
    }, d.count === 0);
    note("satisfaction", L.ratingNote.replace("{count}", d.count)
      .replace("{average}", shown(d.average)));
  }

  function speed(name, divisor, unit) {
    return function (d) {
      function value(minutes) {
        return minutes === null ? null : +(minutes / divisor).toFixed(1);
      }
      function bars(label, field, color) {
        return {name: label, type: "bar", itemStyle: {color: color},
                data: d.groups.map(function (g) { return value(g[field]); })};
      }
      show(name, {
        tooltip: {trigger: "axis", axisPointer: {type: "shadow"},
                  valueFormatter: function (v) { return shown(v, " " + unit); }},
        legend: {top: 0}, grid: plotArea(),
        xAxis: categoryAxis(d.groups.map(function (g) { return g.label + " (" + g.count + ")"; })),
        yAxis: {type: "value", name: unit},
        series: [bars(L.mean, "mean_minutes", "#8c959f"),
                 bars(L.median, "median_minutes", "#0969da"),
                 bars(L.p90, "p90_minutes", "#54aeff")],
      }, d.count === 0);
      note(name, L.speedNote.replace("{count}", d.count)
        .replace("{mean}", d.mean_minutes === null ? "—" : value(d.mean_minutes) + " " + unit));
    };
  }

  var FIGURES = {
    "reopen-rate": reopenRate,
    "satisfaction": satisfaction,
    "mtta": speed("mtta", 1, L.minutes),
    "mttr": speed("mttr", 60, L.hours),
  };

  function query(name) {
    var params = new URLSearchParams(grid.dataset.query);
    var by = document.querySelector('[data-by="' + name + '"]');
    if (by) params.set("by", by.value);
    return params;
  }

  function links(name) {
    document.querySelectorAll('[data-download="' + name + '"]').forEach(function (link) {
      var params = query(name);
      params.set("format", link.dataset.format);
      link.href = "/api/v1/reports/" + name + "?" + params;
    });
  }

  function load(name) {
    links(name);
    frame(name).dataset.state = "loading";
    fetch("/api/v1/reports/" + name + "?" + query(name), {
      credentials: "same-origin", headers: {Accept: "application/json"},
    }).then(function (response) {
      if (!response.ok) throw new Error(response.status);
      return response.json();
    }).then(FIGURES[name]).catch(function () {
      chart(name).setOption({title: {text: L.failed, left: "center", top: "middle",
                                     textStyle: {color: "#cf222e", fontSize: 13}}}, true);
      frame(name).dataset.state = "failed";
    });
  }

  document.querySelectorAll("[data-by]").forEach(function (select) {
    select.addEventListener("change", function () { load(select.dataset.by); });
  });
  document.querySelector("[data-review-filters]").addEventListener("change", function (event) {
    if (event.target.checkValidity()) event.currentTarget.submit();
  });
  window.addEventListener("resize", function () {
    Object.keys(charts).forEach(function (name) { charts[name].resize(); });
  });
  Object.keys(FIGURES).forEach(load);
})();
