/* The dashboard's charts: each fetches its figure from /api/v1/reports/ and draws it with the
   vendored ECharts as soon as it arrives. The filters reload the figures in place, and the
   download links follow them. */
(function () {
  "use strict";
  var L = JSON.parse(document.getElementById("dashboard-labels").textContent);
  var form = document.querySelector(".dash-filters");
  var PRIORITY_COLORS = {urgent: "#cf222e", high: "#e16f24", medium: "#d4a72c", low: "#8c959f"};
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

  function stackedByPriority(series) {
    return series.map(function (s) {
      return {name: s.label, type: "bar", stack: "priority", data: s.values,
              itemStyle: {color: PRIORITY_COLORS[s.code]}, emphasis: {focus: "series"}};
    });
  }

  // No figure (a day or group without tickets) is null in the data and undefined in a
  // tooltip's point.
  function missing(v) { return v === null || v === undefined; }

  function countAxis() {
    return {type: "value", name: L.tickets, minInterval: 1};
  }

  function openTickets(d) {
    var names = d.modules.map(function (m) { return m.name; }).reverse();
    var series = stackedByPriority(d.series).map(function (s) {
      s.data = s.data.slice().reverse();  // the busiest module on top
      return s;
    });
    show("open-tickets", {
      tooltip: {trigger: "axis", axisPointer: {type: "shadow"}}, legend: {top: 0},
      grid: {left: 8, right: 24, top: 32, bottom: 8, containLabel: true},
      xAxis: countAxis(), yAxis: {type: "category", data: names}, series: series,
    }, d.total === 0);
  }

  function backlogAge(d) {
    show("backlog-age", {
      tooltip: {trigger: "axis", axisPointer: {type: "shadow"}}, legend: {top: 0},
      grid: {left: 8, right: 16, top: 32, bottom: 8, containLabel: true},
      xAxis: {type: "category", data: d.groups}, yAxis: countAxis(),
      series: stackedByPriority(d.series),
    }, d.total === 0);
  }

  function inflow(d) {
    show("inflow", {
      tooltip: {trigger: "axis", axisPointer: {type: "shadow"}}, legend: {top: 0},
      grid: {left: 8, right: 16, top: 32, bottom: 8, containLabel: true},
      xAxis: {type: "category", data: d.days}, yAxis: countAxis(),
      series: d.series.map(function (s) {
        return {name: s.label, type: "bar", stack: "source", data: s.values,
                emphasis: {focus: "series"}};
      }),
    }, d.total === 0);
  }

  function timesChart(name, rows, divisor, unit) {
    function value(minutes) { return minutes === null ? null : +(minutes / divisor).toFixed(1); }
    show(name, {
      tooltip: {trigger: "axis", axisPointer: {type: "shadow"},
                valueFormatter: function (v) { return missing(v) ? "—" : v + " " + unit; }},
      legend: {top: 0},
      grid: {left: 8, right: 16, top: 32, bottom: 8, containLabel: true},
      xAxis: {type: "category", data: rows.map(function (r) {
        return r.label + "\n" + L.count + " " + r.count;
      })},
      yAxis: {type: "value", name: unit},
      series: [
        {name: L.median, type: "bar", data: rows.map(function (r) { return value(r.median_minutes); }),
         itemStyle: {color: "#0969da"}},
        {name: L.p90, type: "bar", data: rows.map(function (r) { return value(r.p90_minutes); }),
         itemStyle: {color: "#54aeff"}},
        {name: L.target, type: "scatter", symbol: "rect", symbolSize: [56, 3], z: 5,
         itemStyle: {color: "#1f2328"},
         data: rows.map(function (r) { return value(r.target_minutes); })},
      ],
    }, rows.every(function (r) { return r.count === 0; }));
  }

  function times(d) {
    timesChart("response-times", d.response, 1, L.minutes);
    timesChart("resolution-times", d.resolution, 60, L.hours);
  }

  function percent(v) { return missing(v) ? "—" : v + "%"; }

  function compliance(d) {
    function line(name, daily) {
      return {name: name, type: "line", connectNulls: false, symbolSize: 6, data: daily.percent,
              tooltipCounts: daily};
    }
    var series = [line(L.responseOnTime, d.response), line(L.resolutionOnTime, d.resolution)];
    show("sla-compliance", {
      tooltip: {trigger: "axis", formatter: function (points) {
        var lines = [points[0].axisValue];
        points.forEach(function (p) {
          var counts = series[p.seriesIndex].tooltipCounts;
          lines.push(p.marker + p.seriesName + ": " + percent(p.value) + " (" +
                     counts.met[p.dataIndex] + "/" + counts.total[p.dataIndex] + ")");
        });
        return lines.join("\n");
      }},
      legend: {top: 0},
      grid: {left: 8, right: 16, top: 32, bottom: 8, containLabel: true},
      xAxis: {type: "category", data: d.days},
      yAxis: {type: "value", min: 0, max: 100, axisLabel: {formatter: "{value}%"}},
      series: series,
    }, d.response.overall_percent === null && d.resolution.overall_percent === null);
    document.querySelector('[data-note="sla-compliance"]').textContent = L.period
      .replace("{response}", percent(d.response.overall_percent))
      .replace("{resolution}", percent(d.resolution.overall_percent))
      .replace("{breached}", d.breached_now);
  }

  var FIGURES = [
    ["open-tickets", ["open-tickets"], openTickets],
    ["backlog-age", ["backlog-age"], backlogAge],
    ["inflow", ["inflow"], inflow],
    ["times", ["response-times", "resolution-times"], times],
    ["sla-compliance", ["sla-compliance"], compliance],
  ];

  function failed(names) {
    names.forEach(function (name) {
      chart(name).setOption({title: {text: L.failed, left: "center", top: "middle",
                                     textStyle: {color: "#cf222e", fontSize: 13}}}, true);
      frame(name).dataset.state = "failed";
    });
  }

  function downloads(query) {
    document.querySelectorAll("[data-download]").forEach(function (link) {
      var params = new URLSearchParams(query);
      if (link.dataset.format) params.set("format", link.dataset.format);
      link.href = "/api/v1/reports/" + link.dataset.download + "?" + params;
    });
  }

  function load() {
    var query = new URLSearchParams(new FormData(form));
    if (!query.get("module")) query.delete("module");
    downloads(query);
    FIGURES.forEach(function (figure) {
      fetch("/api/v1/reports/" + figure[0] + "?" + query, {
        credentials: "same-origin", headers: {Accept: "application/json"},
      }).then(function (response) {
        if (!response.ok) throw new Error(response.status);
        return response.json();
      }).then(figure[2]).catch(function () { failed(figure[1]); });
    });
    history.replaceState(null, "", "?" + query);
  }

  form.addEventListener("change", load);
  window.addEventListener("resize", function () {
    Object.keys(charts).forEach(function (name) { charts[name].resize(); });
  });
  load();
})();
