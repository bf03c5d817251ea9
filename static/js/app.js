// Small progressive enhancements; every page works without JavaScript.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button) return;
  const field = document.querySelector(button.dataset.copy);
  if (!field) return;
  field.select();
  navigator.clipboard?.writeText(field.value).then(() => { button.textContent = "Copied"; });
});
document.addEventListener("submit", (event) => {
  const message = event.target.dataset.confirm;
  if (message && !window.confirm(message)) event.preventDefault();
});

// Photo upload: drag-and-drop, previews and a progress bar. The form still posts normally
// when JavaScript is off.
document.querySelectorAll("[data-upload]").forEach((form) => {
  const input = form.querySelector("input[type=file]");
  const previews = form.querySelector("[data-previews]");
  const progress = form.querySelector("[data-progress]");
  const results = form.querySelector("[data-results]");
  let files = [];

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
  form.addEventListener("submit", (event) => {
    if (!files.length || !window.XMLHttpRequest) return;
    event.preventDefault();
    const data = new FormData();
    data.append("csrfmiddlewaretoken", form.querySelector("[name=csrfmiddlewaretoken]").value);
    files.forEach((file) => data.append("photos", file));
    const request = new XMLHttpRequest();
    request.open("POST", form.action);
    request.setRequestHeader("Accept", "application/json");
    progress.hidden = false;
    request.upload.addEventListener("progress", (e) => { if (e.lengthComputable) progress.value = (100 * e.loaded) / e.total; });
    request.addEventListener("load", () => {
      let body = {};
      try { body = JSON.parse(request.responseText); } catch (error) { body = { rejected: [{ name: "Upload", error: "The server could not take the upload. Please try again." }] }; }
      const rejected = body.rejected || [];
      if (!rejected.length) { window.location.reload(); return; }
      results.replaceChildren(...rejected.map((item) => {
        const li = document.createElement("li");
        li.className = "error";
        li.textContent = `${item.name}: ${item.error}`;
        return li;
      }));
      if ((body.accepted || []).length) {
        const li = document.createElement("li");
        li.textContent = `${body.accepted.length} photo(s) uploaded.`;
        results.prepend(li);
        setTimeout(() => window.location.reload(), 4000);
      }
    });
    request.addEventListener("error", () => { results.textContent = "The upload failed: check your connection and try again."; });
    request.send(data);
  });
});

// Save a photo description without leaving the page.
document.querySelectorAll("[data-describe]").forEach((form) => {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const saved = form.querySelector("[data-saved]");
    const response = await fetch(form.action, { method: "POST", body: new FormData(form), headers: { Accept: "application/json" } });
    const body = await response.json().catch(() => ({}));
    saved.textContent = response.ok ? "Saved" : (body.error || "Not saved");
    if (response.ok) setTimeout(() => window.location.reload(), 600);
  });
});

// Generation form: templates fill the prompt; say when the trigger word will be added.
document.querySelectorAll("[data-generate]").forEach((form) => {
  const prompt = form.querySelector("[name=prompt]");
  const model = form.querySelector("[name=model]");
  const note = form.querySelector("[data-trigger-note]");
  const words = JSON.parse(document.getElementById("trigger-words")?.textContent || "{}");
  const update = () => {
    const word = words[model.value];
    const missing = word && !new RegExp(`\\b${word}\\b`).test(prompt.value);
    note.textContent = missing ? `Your trigger word “${word}” will be added: “a photo of ${word}, …”.` : "";
  };
  form.querySelectorAll("[data-template]").forEach((button) => button.addEventListener("click", () => {
    prompt.value = button.dataset.template;
    update();
    prompt.focus();
  }));
  prompt.addEventListener("input", update);
  // Each submission is a paid job: a double click must not queue two.
  form.addEventListener("submit", () => {
    const button = form.querySelector("button[type=submit]");
    window.setTimeout(() => { button.disabled = true; button.textContent = "Generating…"; });
  });
  model.addEventListener("change", () => { window.location.search = `?model=${model.value}`; });
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
