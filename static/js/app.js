// Small progressive enhancements; every page works without JavaScript. Words go through the
// /jsi18n/ catalog (gettext, ngettext, interpolate; locale/*/LC_MESSAGES/djangojs.po), loaded first.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button) return;
  const field = document.querySelector(button.dataset.copy);
  if (!field) return;
  field.select();
  navigator.clipboard?.writeText(field.value).then(() => { button.textContent = gettext("Copied"); });
});
document.addEventListener("submit", (event) => {
  const message = event.target.dataset.confirm;
  if (message && !window.confirm(message)) event.preventDefault();
});
// The footer's language switcher goes as soon as a language is picked (its button is for no-JS).
document.querySelectorAll("[data-autosubmit]").forEach((select) => {
  select.form.querySelector("button[type=submit]")?.setAttribute("hidden", "");
  select.addEventListener("change", () => select.form.requestSubmit());
});

// Live regions: a [data-live-url] element fetches its URL and swaps only the [data-live-id] leaves
// whose HTML changed. Never a page reload: what the user types, picks or focuses survives every update.
// WHEN it fetches: on each event of its project (data-live-project; "*" for any of the user's
// projects and their invitations) that the page's one WebSocket (ws/live/) announces, debounced.
// While the socket is down the page polls every data-live-fallback seconds and says so; while it is
// up, a region whose work is in progress (data-live-active="true") still polls slowly, as a safety net.
const live = (() => {
  const INTERVAL = 4000;  // before the socket first opens: the old timed polling
  const SAFETY = 30000;
  const DEBOUNCE = 100;
  const FALLBACK = (Number(document.body.dataset.liveFallback) || 3) * 1000;
  let mode = "connecting";  // "live" | "fallback" | "connecting"
  const fields = (root) => Array.from(root.querySelectorAll("input, textarea, select"));
  const keyOf = (el) => el.id || `${el.tagName}:${el.name || ""}:${["radio", "checkbox"].includes(el.type) ? el.value : ""}:${el.name ? "" : el.textContent.trim()}`;
  const changed = (el) => {
    if (el.type === "radio" || el.type === "checkbox") return el.checked !== el.defaultChecked;
    if (el.tagName === "SELECT") return Array.from(el.options).some((option) => option.selected !== option.defaultSelected);
    return el.type !== "hidden" && el.type !== "file" && el.value !== el.defaultValue;
  };
  // Replace a leaf's content, carrying over what the user changed in it and where the focus was.
  const replace = (current, fresh) => {
    const edits = fields(current).filter(changed).map((el) => ({ key: keyOf(el), value: el.value, checked: el.checked }));
    const focused = current.contains(document.activeElement) ? keyOf(document.activeElement) : null;
    const opened = Array.from(current.querySelectorAll("details"), (details) => details.open);
    current.className = fresh.className;
    current.innerHTML = fresh.innerHTML;
    current.querySelectorAll("details").forEach((details, index) => { if (opened[index]) details.open = true; });
    const byKey = new Map(fields(current).map((el) => [keyOf(el), el]));
    edits.forEach((edit) => {
      const el = byKey.get(edit.key);
      if (!el) return;
      if (el.type === "radio" || el.type === "checkbox") el.checked = edit.checked; else el.value = edit.value;
    });
    if (focused) {
      const target = Array.from(current.querySelectorAll("a, button, input, textarea, select")).find((el) => keyOf(el) === focused);
      target?.focus();
    }
  };
  const sync = (root, fresh) => {
    root.dataset.liveActive = fresh.dataset.liveActive;
    const nodes = new Map(Array.from(root.querySelectorAll("[data-live-id]")).map((node) => [node.dataset.liveId, node]));
    fresh.querySelectorAll("[data-live-id]").forEach((node) => {
      const current = nodes.get(node.dataset.liveId);
      if (current) {
        // A container (it holds other leaves and the user's own fields) only takes its new class.
        if (node.querySelector("[data-live-id]")) { current.className = node.className; return; }
        if (current.innerHTML !== node.innerHTML || current.className !== node.className) replace(current, node);
        return;
      }
      // New on the server (a photo just uploaded, the images of a finished job): insert it in place.
      const added = document.importNode(node, true);
      let before = node.previousElementSibling;
      while (before && !nodes.has(before.dataset?.liveId)) before = before.previousElementSibling;
      const parent = node.parentElement.dataset.liveId ? nodes.get(node.parentElement.dataset.liveId) : null;
      if (before) nodes.get(before.dataset.liveId).after(added);
      else if (parent) parent.prepend(added);
      else return;
      [added, ...added.querySelectorAll("[data-live-id]")].forEach((el) => nodes.set(el.dataset.liveId, el));
    });
  };
  const refresh = async (root) => {
    const response = await fetch(root.dataset.liveUrl, { headers: { Accept: "text/html" }, cache: "no-store" });
    if (!response.ok) throw new Error(`live update: ${response.status}`);
    const fresh = new DOMParser().parseFromString(await response.text(), "text/html").querySelector("[data-live-url]");
    if (!fresh) { root.dataset.liveActive = "false"; return; }  // e.g. the login page after the session ended
    sync(root, fresh);
  };
  const interval = (root) => {
    if (mode === "fallback") return FALLBACK;
    if (root.dataset.liveActive !== "true") return null;
    // A region no project's events describe (a job on the base model) keeps the timed polling.
    return mode === "live" && root.dataset.liveProject ? SAFETY : INTERVAL;
  };
  const poll = (root, delay = interval(root)) => {
    window.clearTimeout(root.liveTimer);
    if (delay === null) return;
    root.liveTimer = window.setTimeout(async () => {
      if (document.hidden) { root.liveStale = true; poll(root); return; }
      try { await refresh(root); poll(root); } catch (error) { poll(root, Math.min(delay * 2, 60000)); }
    }, delay);
  };
  // Fetch now (after a save, an upload or an event), then keep polling as the mode says.
  const update = async (element) => {
    const root = element.closest("[data-live-url]");
    if (!root) return;
    try { await refresh(root); } catch (error) { /* the next poll or event tries again */ }
    poll(root);
  };
  const roots = () => Array.from(document.querySelectorAll("[data-live-url]"));
  const soon = (root) => {
    if (document.hidden) { root.liveStale = true; return; }
    window.clearTimeout(root.liveDebounce);
    root.liveDebounce = window.setTimeout(() => update(root), DEBOUNCE);
  };
  document.addEventListener("visibilitychange", () => {
    if (document.hidden) return;
    roots().filter((root) => root.liveStale).forEach((root) => { root.liveStale = false; soon(root); });
  });
  let status = null;
  const setMode = (next) => {
    if (next === mode) return;
    mode = next;
    document.documentElement.dataset.live = mode;
    if (mode === "fallback" && !status) {
      status = document.createElement("p");
      status.className = "live-status";
      status.setAttribute("role", "status");
      status.textContent = gettext("Live updates paused — refreshing every few seconds");
      (document.querySelector("main") || document.body).prepend(status);
    } else if (mode !== "fallback" && status) {
      status.remove();
      status = null;
    }
    roots().forEach((root) => poll(root));
  };
  const onMessage = (message) => {
    if (message.refresh) { roots().forEach(soon); return; }
    const project = message.project === undefined ? null : String(message.project);
    roots().forEach((root) => {
      const wanted = root.dataset.liveProject;
      if (wanted === "*" || (project !== null && wanted === project)) soon(root);
    });
  };
  // One WebSocket per page, for signed-in pages with a live region; reconnects with backoff and
  // asks for what it missed (?after=<last event id>).
  const connect = () => {
    // No region follows a project's events (signed out, a job on the base model): timed polling only.
    if (!document.body.dataset.liveSocket || !roots().some((root) => root.dataset.liveProject)) return;
    if (!("WebSocket" in window)) { setMode("fallback"); return; }
    let lastEvent = null, attempt = 0, heartbeat = null, lastHeard = 0;
    const open = () => {
      const scheme = window.location.protocol === "https:" ? "wss" : "ws";
      const query = lastEvent === null ? "" : `?after=${lastEvent}`;
      // A path is this site's; a full ws(s):// URL names a separate live server (LIVE_WEBSOCKET_URL).
      const target = document.body.dataset.liveSocket;
      const base = /^wss?:\/\//.test(target) ? target : `${scheme}://${window.location.host}${target}`;
      let socket;
      try { socket = new WebSocket(`${base}${query}`); }
      catch (error) { retry(); return; }
      api.socket = socket;
      socket.addEventListener("open", () => {
        attempt = 0;
        lastHeard = Date.now();
        // The server answers each ping; a connection silent for two pings is dead (a sleeping laptop, a proxy).
        heartbeat = window.setInterval(() => {
          if (Date.now() - lastHeard > 50000) { socket.close(); return; }
          try { socket.send(JSON.stringify({ ping: Date.now() })); } catch (error) { socket.close(); }
        }, 20000);
      });
      socket.addEventListener("message", (event) => {
        lastHeard = Date.now();
        let message;
        try { message = JSON.parse(event.data); } catch (error) { return; }
        if (message.ready !== undefined) {
          lastEvent = Math.max(lastEvent || 0, message.ready);
          setMode("live");
          return;
        }
        if (message.event !== undefined) lastEvent = Math.max(lastEvent || 0, message.event);
        onMessage(message);
      });
      socket.addEventListener("close", (event) => {
        window.clearInterval(heartbeat);
        if (api.socket === socket) api.socket = null;
        setMode("fallback");
        if (event.code === 4401) return;  // signed out: the polling finds the login page and stops
        retry();
      });
    };
    const retry = () => {
      attempt += 1;
      const delay = Math.min(1000 * 2 ** (attempt - 1), 30000) * (0.75 + Math.random() / 2);
      window.setTimeout(open, delay);
    };
    open();
  };
  roots().forEach((root) => poll(root));
  const api = { update, socket: null };
  connect();
  return api;
})();

// Photo upload: drag-and-drop, previews, and one request per file so the progress says how many
// arrived and an interrupted upload loses only the files not yet sent. The form still posts
// normally when JavaScript is off.
document.querySelectorAll("[data-upload]").forEach((form) => {
  const input = form.querySelector("input[type=file]");
  const previews = form.querySelector("[data-previews]");
  const progress = form.querySelector("[data-progress]");
  const progressText = form.querySelector("[data-progress-text]");
  const results = form.querySelector("[data-results]");
  const button = form.querySelector("button[type=submit]");
  const memoryKey = `upload:${form.action}`;
  const photoCards = () => Array.from(document.querySelectorAll("[data-photo-id]"));
  let files = [];

  const line = (text, className = "") => {
    const li = document.createElement("li");
    li.className = className;
    li.textContent = text;
    return li;
  };
  const show = (list) => {
    files = Array.from(list);
    previews.replaceChildren(...files.map((file) => {
      const img = document.createElement("img");
      img.alt = file.name;
      img.src = URL.createObjectURL(file);  // HEIC shows no preview in most browsers; the upload still works
      return img;
    }));
  };
  input.addEventListener("change", () => show(input.files));
  ["dragenter", "dragover"].forEach((name) => form.addEventListener(name, (event) => {
    event.preventDefault();
    form.classList.add("dragging");
  }));
  ["dragleave", "drop"].forEach((name) => form.addEventListener(name, () => form.classList.remove("dragging")));
  form.addEventListener("drop", (event) => {
    event.preventDefault();
    show(event.dataTransfer.files);
  });

  // After a reload that cut an upload short: which of its files the project now has, and which not.
  const interrupted = JSON.parse(window.sessionStorage.getItem(memoryKey) || "null");
  if (interrupted) {
    window.sessionStorage.removeItem(memoryKey);
    const arrivedNames = photoCards().filter((card) => !interrupted.before.includes(card.dataset.photoId)).map((card) => card.dataset.photoName);
    const arrived = [], missing = [];
    interrupted.names.forEach((name) => {
      const at = arrivedNames.indexOf(name);
      if (at >= 0) { arrived.push(name); arrivedNames.splice(at, 1); } else missing.push(name);
    });
    results.replaceChildren(
      line(gettext("The last upload was interrupted."), "error"),
      line(arrived.length ? interpolate(gettext("Arrived (%(count)s): %(names)s"), { count: arrived.length, names: arrived.join(", ") }, true) : gettext("No file arrived.")),
      ...(missing.length ? [line(interpolate(gettext("Did not arrive (%(count)s): %(names)s. Choose them again."), { count: missing.length, names: missing.join(", ") }, true), "error")] : []),
    );
  }

  const warnBeforeLeaving = (event) => {
    event.preventDefault();
    event.returnValue = "";  // older browsers need a value to show their own "leave the page?" prompt
  };
  const sendOne = (file, onProgress) => new Promise((resolve) => {
    const data = new FormData();
    data.append("csrfmiddlewaretoken", form.querySelector("[name=csrfmiddlewaretoken]").value);
    data.append("photos", file);
    const request = new XMLHttpRequest();
    request.open("POST", form.action);
    request.setRequestHeader("Accept", "application/json");
    request.upload.addEventListener("progress", (e) => { if (e.lengthComputable) onProgress(file.size * (e.loaded / e.total)); });
    request.addEventListener("load", () => {
      try { resolve(JSON.parse(request.responseText)); } catch (error) {
        resolve({ rejected: [{ name: file.name, error: gettext("The server could not take this file. Please try again.") }] });
      }
    });
    request.addEventListener("error", () => resolve({ rejected: [{ name: file.name, error: gettext("Not sent: check your connection and try again.") }] }));
    request.send(data);
  });
  const minutes = (seconds) => (seconds < 60
    ? interpolate(gettext("%(seconds)s s"), { seconds: Math.max(1, Math.round(seconds)) }, true)
    : interpolate(gettext("%(minutes)s min"), { minutes: Math.round(seconds / 60) }, true));

  form.addEventListener("submit", async (event) => {
    if (!files.length || !window.XMLHttpRequest || !window.fetch) return;
    event.preventDefault();
    const batch = files;
    const totalBytes = batch.reduce((sum, file) => sum + file.size, 0) || 1;
    const started = Date.now();
    let sentBytes = 0, done = 0;
    const accepted = [], rejected = [];
    const report = (currentBytes) => {
      const loaded = sentBytes + currentBytes;
      const percent = Math.min(100, Math.round((100 * loaded) / totalBytes));
      const elapsed = (Date.now() - started) / 1000;
      // Estimated once a file has arrived or a second has passed; earlier guesses swing wildly.
      const left = loaded > 0 && elapsed > 0 && (done > 0 || elapsed > 1) ? ((totalBytes - loaded) * elapsed) / loaded : null;
      progress.value = percent;
      const uploaded = interpolate(ngettext("%(done)s of %(total)s file uploaded", "%(done)s of %(total)s files uploaded", batch.length), { done, total: batch.length }, true);
      const eta = left === null ? "" : ` · ${interpolate(gettext("about %(time)s left"), { time: minutes(left) }, true)}`;
      progressText.textContent = `${uploaded} · ${percent} %${eta}`;
    };
    window.sessionStorage.setItem(memoryKey, JSON.stringify({ names: batch.map((file) => file.name), before: photoCards().map((card) => card.dataset.photoId) }));
    window.addEventListener("beforeunload", warnBeforeLeaving);
    button.disabled = true;
    progress.hidden = false;
    results.replaceChildren();
    report(0);
    for (const file of batch) {
      const body = await sendOne(file, report);
      accepted.push(...(body.accepted || []));
      rejected.push(...(body.rejected || []));
      sentBytes += file.size;
      done += 1;
      report(0);
    }
    window.removeEventListener("beforeunload", warnBeforeLeaving);
    window.sessionStorage.removeItem(memoryKey);
    button.disabled = false;
    progress.hidden = true;
    progressText.textContent = "";
    input.value = "";
    files = [];
    previews.replaceChildren();
    const counts = { accepted: accepted.length, total: batch.length };
    results.replaceChildren(
      line(accepted.length
        ? interpolate(ngettext("%(accepted)s of %(total)s photo uploaded; processing it now.", "%(accepted)s of %(total)s photos uploaded; processing them now.", batch.length), counts, true)
        : interpolate(ngettext("%(accepted)s of %(total)s photo uploaded.", "%(accepted)s of %(total)s photos uploaded.", batch.length), counts, true)),
      ...rejected.map((item) => line(`${item.name}: ${item.error}`, "error")),
    );
    live.update(form);
  });
});

// A description typed but not saved is not lost to a click on a link or another form without a warning.
window.addEventListener("beforeunload", (event) => {
  const unsaved = Array.from(document.querySelectorAll("form.describe textarea")).some((box) => box.value !== box.defaultValue);
  if (unsaved) { event.preventDefault(); event.returnValue = ""; }
});

// Save a photo description without leaving the page: only this photo's status changes, the focus
// stays where it is, and the other boxes keep what is typed in them.
document.addEventListener("submit", async (event) => {
  const form = event.target.closest("[data-describe]");
  if (!form || event.defaultPrevented) return;
  event.preventDefault();
  const card = form.closest("[data-photo-id]") || form;
  const box = card.querySelector("[data-describe] textarea");
  const saved = card.querySelector("[data-saved]");
  const sent = new FormData(form);
  saved.textContent = gettext("Saving…");
  let response, body = {};
  try {
    response = await fetch(form.action, { method: "POST", body: sent, headers: { Accept: "application/json" } });
    body = await response.json().catch(() => ({}));
  } catch (error) {
    saved.textContent = gettext("Not saved: check your connection and try again.");
    return;
  }
  if (!response.ok) { saved.textContent = body.error || gettext("Not saved. Please try again."); return; }
  saved.textContent = body.message || gettext("Saved.");
  if (box) {
    const typedSince = box.value !== sent.get(box.name);
    box.defaultValue = body.description;
    if (form.hasAttribute("data-ai-caption")) { box.value = body.description; box.focus(); }
    else if (!typedSince) box.value = body.description;  // what is typed while saving is kept
  }
  live.update(card);
});

// Generation form: templates fill the prompt; say when the trigger word will be added and how many
// characters the prompt the backend checks (trigger word included) has. Choosing another model swaps
// its templates in place: no reload, the focus stays on the select.
document.querySelectorAll("[data-generate]").forEach((form) => {
  const prompt = form.querySelector("[name=prompt]");
  const model = form.querySelector("[name=model]");
  const note = form.querySelector("[data-trigger-note]");
  const counter = form.querySelector("[data-prompt-count]");
  const templateField = form.querySelector("[data-templates]");
  const templateList = form.querySelector("[data-template-list]");
  const maxChars = Number(form.dataset.maxChars);
  const words = JSON.parse(document.getElementById("trigger-words")?.textContent || "{}");
  const templates = JSON.parse(document.getElementById("model-templates")?.textContent || "{}");
  const escaped = (word) => word.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const update = () => {
    const word = words[model.value];
    const typed = prompt.value.split(/\s+/).filter(Boolean).join(" ");
    const missing = word && !new RegExp(`\\b${escaped(word)}\\b`).test(typed);
    // The prompt sent then starts with the English "a photo of <word>, ": not quoted here, where it
    // would be the one English sentence of a page in another language.
    note.textContent = missing ? interpolate(gettext("Your trigger word “%(word)s” will be added at the start of the prompt."), { word }, true) : "";
    const length = (missing ? `a photo of ${word}, `.length : 0) + typed.length;
    const counts = { length, max: maxChars, over: length - maxChars };
    let count = missing
      ? interpolate(gettext("%(length)s / %(max)s characters, the trigger word included"), counts, true)
      : interpolate(gettext("%(length)s / %(max)s characters"), counts, true);
    if (length > maxChars) count = interpolate(gettext("%(count)s: %(over)s too many"), { count, over: counts.over }, true);
    counter.textContent = count;
    counter.classList.toggle("error", length > maxChars);
  };
  const showTemplates = () => {
    const list = templates[model.value] || templates.base || [];
    templateList.replaceChildren(...list.map((template) => {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "button button-small button-ghost";
      button.dataset.template = template.prompt;
      button.title = template.prompt;
      button.textContent = template.label;
      return button;
    }));
    templateField.hidden = !list.length;
  };
  templateList.addEventListener("click", (event) => {
    const button = event.target.closest("[data-template]");
    if (!button) return;
    prompt.value = button.dataset.template;
    update();
    prompt.focus();
  });
  prompt.addEventListener("input", update);
  model.addEventListener("change", () => { showTemplates(); update(); });
  // Each submission is a paid job: a double click must not queue two.
  form.addEventListener("submit", () => {
    const button = form.querySelector("button[type=submit]");
    window.setTimeout(() => { button.disabled = true; button.textContent = gettext("Generating…"); });
  });
  update();
});

// Gallery: a lightbox over the grid (each tile still links to the image page).
document.querySelectorAll("[data-lightbox-dialog]").forEach((dialog) => {
  const image = dialog.querySelector("img");
  document.querySelectorAll("[data-lightbox]").forEach((link) => link.addEventListener("click", (event) => {
    event.preventDefault();
    image.src = link.dataset.full;
    image.alt = link.dataset.prompt;
    dialog.querySelector(".prompt").textContent = link.dataset.prompt;
    dialog.querySelector(".sent")?.replaceChildren(link.dataset.sent || "");
    dialog.querySelector(".params").textContent = link.dataset.params;
    dialog.querySelector("[data-download]").href = link.dataset.download;
    dialog.querySelector("[data-again]").href = link.dataset.again;
    dialog.querySelector("[data-open]").href = link.href;
    dialog.showModal();
  }));
  dialog.querySelector("[data-close]").addEventListener("click", () => dialog.close());
  dialog.addEventListener("click", (event) => { if (event.target === dialog) dialog.close(); });
});
document.querySelectorAll("[data-confirm-selection]").forEach((button) => button.addEventListener("click", (event) => {
  if (!window.confirm(button.dataset.confirmSelection)) event.preventDefault();
}));
