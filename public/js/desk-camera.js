// The verify desk's camera (/personal/caja/verificar), for phones and tablets.
//
// Plain JavaScript, loaded by the desk page alone (never a Leptos island:
// the citizen pages' WebAssembly does not carry it). Where the browser reads
// QR codes itself (BarcodeDetector with "qr_code") and can open a camera,
// it shows "Escanear con la cámara": the rear camera in a <video>, and the
// first code read stops the camera, goes into the scanner's field and sends
// the form (GET), so the verdict comes as with a USB scanner. Elsewhere it
// does nothing: the page's photo form (POST /personal/caja/verificar/foto)
// and the field remain. The camera is stopped on "Cancelar", Escape, and
// whenever the page is hidden or left.
(function () {
  'use strict';

  var root = document.getElementById('desk-camera');
  var form = document.querySelector('form[data-testid="desk-form"]');
  var field = document.getElementById('url');
  var start = document.getElementById('desk-camera-start');
  var view = document.getElementById('desk-camera-view');
  var video = document.getElementById('desk-camera-video');
  var cancel = document.getElementById('desk-camera-cancel');
  var status = document.getElementById('desk-camera-status');
  if (!root || !form || !field || !start || !view || !video || !cancel || !status) {
    return;
  }
  if (!('BarcodeDetector' in window) || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    return;
  }

  var detector = null;
  var stream = null;
  var timer = null;

  function say(text) {
    status.textContent = text;
  }

  function stop() {
    if (timer !== null) {
      clearTimeout(timer);
      timer = null;
    }
    if (stream) {
      stream.getTracks().forEach(function (track) {
        track.stop();
      });
      stream = null;
    }
    video.srcObject = null;
    view.hidden = true;
    start.hidden = false;
  }

  function found(text) {
    stop();
    field.value = text;
    say('Código leído. Verificando…');
    if (typeof form.requestSubmit === 'function') {
      form.requestSubmit();
    } else {
      form.submit();
    }
  }

  function scan() {
    timer = null;
    if (!stream) {
      return;
    }
    var next = function (delay) {
      if (stream) {
        timer = setTimeout(scan, delay);
      }
    };
    // Until the camera's first picture arrives there is nothing to read.
    if (video.readyState < 2) {
      next(150);
      return;
    }
    detector
      .detect(video)
      .then(function (codes) {
        var code = codes.find(function (c) {
          return typeof c.rawValue === 'string' && c.rawValue.trim() !== '';
        });
        if (code && stream) {
          found(code.rawValue.trim());
        } else {
          next(200);
        }
      })
      .catch(function () {
        next(400);
      });
  }

  function openCamera() {
    say('Abriendo la cámara…');
    start.hidden = true;
    navigator.mediaDevices
      .getUserMedia({ video: { facingMode: { ideal: 'environment' } }, audio: false })
      .then(function (media) {
        stream = media;
        video.srcObject = media;
        view.hidden = false;
        return video.play();
      })
      .then(function () {
        say('Apunte la cámara al código QR del recibo y manténgala quieta.');
        cancel.focus();
        scan();
      })
      .catch(function (error) {
        stop();
        var denied = error && (error.name === 'NotAllowedError' || error.name === 'SecurityError');
        say(
          denied
            ? 'No se permitió usar la cámara. Permítalo en el navegador, o envíe una foto con el formulario de abajo.'
            : 'No se pudo abrir la cámara. Envíe una foto con el formulario de abajo, o use el lector.'
        );
        start.focus();
      });
  }

  function setUp() {
    try {
      detector = new window.BarcodeDetector({ formats: ['qr_code'] });
    } catch (e) {
      return;
    }
    start.addEventListener('click', openCamera);
    cancel.addEventListener('click', function () {
      stop();
      say('Cámara cerrada.');
      start.focus();
    });
    document.addEventListener('keydown', function (event) {
      if (event.key === 'Escape' && stream) {
        stop();
        say('Cámara cerrada.');
        start.focus();
      }
    });
    document.addEventListener('visibilitychange', function () {
      if (document.hidden && stream) {
        stop();
        say('Cámara cerrada al salir de la página.');
      }
    });
    window.addEventListener('pagehide', stop);
    root.hidden = false;
  }

  var formats = window.BarcodeDetector.getSupportedFormats;
  if (typeof formats !== 'function') {
    return;
  }
  formats
    .call(window.BarcodeDetector)
    .then(function (supported) {
      if (supported.indexOf('qr_code') !== -1) {
        setUp();
      }
    })
    .catch(function () {});
})();
