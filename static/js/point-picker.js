/* The point picker (templates/water/_point_picker.html): a small map bound to the form's latitude
   and longitude inputs. Inputs hold WGS-84; on GCJ-02 tiles (AMap) positions are shifted for display
   and a tapped position is shifted back (iteratively, as campaign/water/geo.py does) before it is
   written to the inputs. */
(function () {
  "use strict";

  var A = 6378245.0;
  var EE = 0.00669342162296594323;

  function outOfChina(lat, lon) {
    return !(lon >= 72.004 && lon <= 137.8347 && lat >= 0.8293 && lat <= 55.8271);
  }

  function shiftLat(x, y) {
    var v = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
    v += (20.0 * Math.sin(6.0 * x * Math.PI) + 20.0 * Math.sin(2.0 * x * Math.PI)) * 2.0 / 3.0;
    v += (20.0 * Math.sin(y * Math.PI) + 40.0 * Math.sin(y / 3.0 * Math.PI)) * 2.0 / 3.0;
    v += (160.0 * Math.sin(y / 12.0 * Math.PI) + 320.0 * Math.sin(y * Math.PI / 30.0)) * 2.0 / 3.0;
    return v;
  }

  function shiftLon(x, y) {
    var v = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
    v += (20.0 * Math.sin(6.0 * x * Math.PI) + 20.0 * Math.sin(2.0 * x * Math.PI)) * 2.0 / 3.0;
    v += (20.0 * Math.sin(x * Math.PI) + 40.0 * Math.sin(x / 3.0 * Math.PI)) * 2.0 / 3.0;
    v += (150.0 * Math.sin(x / 12.0 * Math.PI) + 300.0 * Math.sin(x / 30.0 * Math.PI)) * 2.0 / 3.0;
    return v;
  }

  function wgsToGcj(lat, lon) {
    if (outOfChina(lat, lon)) return [lat, lon];
    var dLat = shiftLat(lon - 105.0, lat - 35.0);
    var dLon = shiftLon(lon - 105.0, lat - 35.0);
    var radLat = lat / 180.0 * Math.PI;
    var magic = 1 - EE * Math.sin(radLat) * Math.sin(radLat);
    var sqrtMagic = Math.sqrt(magic);
    dLat = (dLat * 180.0) / ((A * (1 - EE)) / (magic * sqrtMagic) * Math.PI);
    dLon = (dLon * 180.0) / (A / sqrtMagic * Math.cos(radLat) * Math.PI);
    return [lat + dLat, lon + dLon];
  }

  function gcjToWgs(lat, lon) {
    if (outOfChina(lat, lon)) return [lat, lon];
    var w = [lat, lon];
    for (var i = 0; i < 30; i++) {
      var g = wgsToGcj(w[0], w[1]);
      var eLat = g[0] - lat, eLon = g[1] - lon;
      w = [w[0] - eLat, w[1] - eLon];
      if (Math.abs(eLat) < 1e-10 && Math.abs(eLon) < 1e-10) break;
    }
    return w;
  }

  function readNumber(input, limit) {
    if (!input || input.value.trim() === "") return null;
    var value = Number(input.value.trim());
    return isFinite(value) && Math.abs(value) <= limit ? value : null;
  }

  function start(box) {
    var latInput = document.getElementById(box.dataset.latitudeInput || "latitude");
    var lonInput = document.getElementById(box.dataset.longitudeInput || "longitude");
    if (!latInput || !lonInput || !window.L) return;
    var settings = JSON.parse(box.dataset.tiles);
    var gcj = settings.coordinates === "gcj02";
    var toDisplay = function (lat, lon) { return gcj ? wgsToGcj(lat, lon) : [lat, lon]; };
    var fromDisplay = function (lat, lon) { return gcj ? gcjToWgs(lat, lon) : [lat, lon]; };
    var status = box.querySelector(".point-picker-status");
    var say = function (text) { status.textContent = text; };

    box.hidden = false;
    var centre = box.dataset.centre.split(",").map(Number);
    var map = L.map(box.querySelector(".point-picker-map"), { maxZoom: settings.max_zoom });
    map.attributionControl.setPrefix("Leaflet");
    settings.tiles.forEach(function (tile) {
      L.tileLayer(tile.url, {
        attribution: tile.attribution, subdomains: tile.subdomains || "abc", maxZoom: settings.max_zoom
      }).addTo(map);
    });
    var marker = null;

    function show(lat, lon, zoom) {
      var shown = toDisplay(lat, lon);
      if (marker) marker.setLatLng(shown);
      else marker = L.marker(shown).addTo(map);
      map.setView(shown, zoom || Math.max(map.getZoom() || 0, 15));
    }

    function fromInputs() {
      var lat = readNumber(latInput, 90), lon = readNumber(lonInput, 180);
      if (lat !== null && lon !== null) { show(lat, lon); return true; }
      return false;
    }

    function fill(lat, lon) {
      latInput.value = lat.toFixed(6);
      lonInput.value = lon.toFixed(6);
      [latInput, lonInput].forEach(function (input) {
        input.dispatchEvent(new Event("change", { bubbles: true }));
      });
      show(lat, lon);
    }

    if (!fromInputs()) map.setView(toDisplay(centre[0], centre[1]), Number(box.dataset.zoom) || 9);
    [latInput, lonInput].forEach(function (input) { input.addEventListener("input", fromInputs); });

    map.on("click", function (event) {
      var position = fromDisplay(event.latlng.lat, event.latlng.lng);
      fill(position[0], position[1]);
      say(box.dataset.tapped);
    });

    var gps = box.querySelector(".point-picker-gps");
    if (!navigator.geolocation) {
      gps.hidden = true;
    } else {
      gps.addEventListener("click", function () {
        say(box.dataset.gpsBusy);
        navigator.geolocation.getCurrentPosition(function (found) {
          fill(found.coords.latitude, found.coords.longitude);
          say(box.dataset.gpsDone.replace("{metres}", Math.round(found.coords.accuracy)));
        }, function () {
          say(box.dataset.gpsFailed);
        }, { enableHighAccuracy: true, timeout: 20000, maximumAge: 60000 });
      });
    }
    window.setTimeout(function () { map.invalidateSize(); }, 0);
  }

  function startAll() {
    Array.prototype.forEach.call(document.querySelectorAll(".point-picker"), start);
  }

  window.CampaignPointPicker = { wgsToGcj: wgsToGcj, gcjToWgs: gcjToWgs };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", startAll);
  else startAll();
})();
