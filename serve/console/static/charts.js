// Draws the console's charts with the embedded Apache ECharts: each
// <div class="chart" data-source="ID"> gets the chart described by the JSON
// in <script type="application/json" id="ID">:
//   {"kind": "line"|"bar"|"stacked"|"pie", "x": [...], "series": [{"name": ..., "data": [...]}]}
(function () {
  document.querySelectorAll('div.chart[data-source]').forEach(function (el) {
    var src = document.getElementById(el.dataset.source);
    if (!src || typeof echarts === 'undefined') { return; }
    var spec = JSON.parse(src.textContent);
    var chart = echarts.init(el, null, {renderer: 'svg'});
    var option;
    if (spec.kind === 'pie') {
      option = {tooltip: {trigger: 'item'}, legend: {bottom: 0},
        series: [{type: 'pie', radius: '60%', data: spec.series[0].data.map(function (v, i) { return {name: spec.x[i], value: v}; })}]};
    } else {
      option = {tooltip: {trigger: 'axis'}, legend: {bottom: 0}, grid: {left: 60, right: 20, top: 20, bottom: 50},
        xAxis: {type: 'category', data: spec.x}, yAxis: {type: 'value'},
        series: spec.series.map(function (s) {
          return {name: s.name, type: spec.kind === 'line' ? 'line' : 'bar', stack: spec.kind === 'stacked' ? 'all' : undefined, data: s.data};
        })};
    }
    option.animation = false; // drawn at once: what a screenshot or a quick look shows is the whole chart
    chart.setOption(option);
    el.dataset.drawn = 'true';
  });
})();
