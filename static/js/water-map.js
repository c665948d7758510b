/* Water points on the map (campaign/water/maps.py): markers, clusters and popups are built here
   from the data the server sends. Text a user typed only ever goes through textContent. */
(function () {
  "use strict";

  var RANK = { high: 3, medium: 2, low: 1 };
  var BY_RANK = { 3: "high", 2: "medium", 1: "low" };
  var FLAG_BITS = [1, 2, 4];
  // Row layout: [id, lat, lon, name, kind, danger, responsible, phone, unitId, flags]

  function element(tag, className, content) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (content !== undefined && content !== null && content !== "") node.textContent = String(content);
    return node;
  }

  function danger(value) {
    return RANK.hasOwnProperty(value) ? value : "low";
  }

  function popupContent(data, row) {
    var labels = data.labels;
    var box = element("div", "water-popup");
    box.appendChild(element("strong", "water-popup-name", row[3]));
    var kind = labels.kinds[row[4]] || row[4];
    box.appendChild(element("div", "water-popup-kind", kind + " · " + (labels.dangers[row[5]] || row[5])));
    var unit = data.units[row[8]];
    if (unit) box.appendChild(element("div", null, labels.unit + ": " + unit));
    var person = [row[6], row[7]].filter(Boolean).join(" ");
    if (person) box.appendChild(element("div", null, labels.responsible + ": " + person));
    FLAG_BITS.forEach(function (bit) {
      if (row[9] & bit) box.appendChild(element("div", "water-popup-flag", labels.flags[bit]));
    });
    var link = element("a", "water-popup-link", labels.open);
    link.href = data.pointUrl.replace("{id}", encodeURIComponent(String(row[0])));
    box.appendChild(link);
    return box;
  }

  function marker(data, row, ring) {
    var level = danger(row[5]);
    var point = L.marker([row[1], row[2]], {
      icon: L.divIcon({
        className: "water-pin water-pin-" + level + (ring ? " water-pin-ring" : ""),
        iconSize: [16, 16]
      }),
      title: String(row[3]),
      rank: RANK[level]
    });
    point.bindPopup(function () { return popupContent(data, row); });
    return point;
  }

  function clusterIcon(cluster, ring) {
    var top = 1;
    var children = cluster.getAllChildMarkers();
    for (var i = 0; i < children.length && top < 3; i++) {
      if ((children[i].options.rank || 1) > top) top = children[i].options.rank;
    }
    var count = cluster.getChildCount();
    var size = count < 10 ? "small" : (count < 100 ? "medium" : "large");
    var inner = element("div");
    inner.appendChild(element("span", null, count));
    return L.divIcon({
      html: inner,
      className: "marker-cluster marker-cluster-" + size + " water-cluster-" + BY_RANK[top] +
        (ring ? " water-cluster-ring" : ""),
      iconSize: L.point(40, 40)
    });
  }

  function prepare(map, data) {
    if (map.attributionControl) map.attributionControl.setPrefix("Leaflet");
    return data;
  }

  function clusterLayer(data, flag, options) {
    options = options || {};
    options.iconCreateFunction = function (cluster) { return clusterIcon(cluster, flag !== 0); };
    var group = L.markerClusterGroup(options);
    var markers = [];
    for (var i = 0; i < data.rows.length; i++) {
      var row = data.rows[i];
      if (!flag || (row[9] & flag)) markers.push(marker(data, row, flag !== 0));
    }
    group.addLayers(markers);
    return group;
  }

  window.CampaignWaterMap = { prepare: prepare, clusterLayer: clusterLayer };
})();
