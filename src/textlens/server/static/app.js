// textlens web UI: plain JavaScript over the REST API (no build step, nothing from outside).
"use strict";
const $ = (sel) => document.querySelector(sel);
// PALETTE and KW_COLOURS come from /palettes.js (textlens/html.py, shared with every textlens page)
const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c]));

async function api(path, options = {}) {
  const headers = {"content-type": "application/json"};
  const key = localStorage.getItem("textlens-key");
  if (key) headers["X-API-Key"] = key;
  const res = await fetch(path, {...options, headers});
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error((body.error || body.detail || res.statusText) + (body.hint ? " — " + body.hint : ""));
  return body;
}

// A control that needs a list from the server stays disabled, saying "loading…", until the list is there; so does
// the button that would send it (a click before the page is ready sends nothing).
async function fillChoices(select, button, load, option) {
  const sel = $(select), btn = $(button);
  sel.disabled = btn.disabled = true;
  sel.innerHTML = "<option value=''>loading…</option>";
  try {
    const items = await load();
    sel.innerHTML = items.length ? items.map(option).join("") : "<option value=''>none on this server</option>";
    sel.disabled = false; btn.disabled = !items.length;
    return items;
  } catch (err) { sel.innerHTML = "<option value=''>could not load</option>"; throw err; }
}
// A long step says what it is doing and for how long; stop() ends the count.
function ticking(el, label) {
  const start = performance.now();
  const tick = () => { el.textContent = `${label}… ${Math.floor((performance.now() - start) / 1000)} s`; };
  tick();
  const id = setInterval(tick, 1000);
  return () => clearInterval(id);
}

// ---- navigation ----------------------------------------------------------
function show(page) {
  document.querySelectorAll(".page").forEach((p) => p.classList.toggle("active", p.id === "page-" + page));
  document.querySelectorAll("nav a").forEach((a) => a.classList.toggle("active", a.dataset.page === page));
  if (page === "collections") loadCollections();
  if (page === "search") loadCollectionChoices();
  if (page === "ask") loadCollectionChoices("#ask-collection");
  if (page === "inside") loadInsideModels();
}
function route() {
  const [page, query] = location.hash.slice(1).split("?");
  show(page || "tokens");
  if ((page || "tokens") === "tokens" && query) {
    const params = new URLSearchParams(query);
    if (params.get("text")) $("#tok-text").value = params.get("text");
    if (params.get("t")) state.selected = new Set(params.get("t").split(","));
    renderPicker();
    compare();
  }
}
const state = {selected: new Set(), tokenizers: []};

// ---- tokenizers ------------------------------------------------------------
const DEFAULTS = ["gpt-4", "gpt-4o", "llama-3", "mistral-v0.3", "qwen3", "bert-base-uncased"];
function renderPicker() {
  $("#tok-picker").innerHTML = state.tokenizers.filter((t) => t.available).map((t) =>
    `<label title="${esc(t.display)}"><input type="checkbox" value="${esc(t.name)}" ${state.selected.has(t.name) ? "checked" : ""}> ${esc(t.name)}</label>`).join("");
  $("#tok-picker").querySelectorAll("input").forEach((box) => box.addEventListener("change", () => {
    box.checked ? state.selected.add(box.value) : state.selected.delete(box.value);
  }));
}
function segmentsHtml(report, showWs) {
  return report.segments.map((seg, k) => {
    let text = seg.text;
    if (showWs) text = text.replace(/ /g, "·").replace(/\t/g, "→").replace(/\n/g, "↵\n");
    const bytes = new TextEncoder().encode(seg.text).length;
    const style = seg.kind === "text" ? ` style="background:${PALETTE[k % PALETTE.length]}"` : "";
    return `<span class="${seg.kind}"${style} title="ids ${seg.ids.join(", ")} · ${bytes} bytes · ${esc(JSON.stringify(seg.text))}">${esc(text)}</span>`;
  }).join("");
}
async function compare() {
  $("#tok-error").textContent = "";
  const text = $("#tok-text").value;
  const names = [...state.selected];
  try {
    const data = await api("/api/tokens/compare", {method: "POST", body: JSON.stringify({text, tokenizers: names, categories: true})});
    const top = Math.max(...data.tokenizers.map((t) => t.count));
    $("#tok-stats").innerHTML = "<tr><th>tokenizer<th>tokens<th>chars/tok<th>bytes/tok<th>fertility<th>UNK<th>byte tokens<th>specials<th>round trip</tr>" +
      data.tokenizers.map((t) => `<tr><td>${esc(t.name)}<td><span class="bar" style="width:${Math.round(90 * t.count / top)}px"></span>${t.count}` +
        `<td>${t.stats.chars_per_token.toFixed(2)}<td>${t.stats.bytes_per_token.toFixed(2)}<td>${t.stats.fertility.toFixed(2)}` +
        `<td>${(100 * t.stats.unk_rate).toFixed(1)}%<td>${(100 * t.stats.byte_token_rate).toFixed(1)}%<td>${esc(t.stats.special_added.join(" ") || "-")}` +
        `<td>${t.roundtrip.lossless ? "lossless" : '<span class="flag">' + esc(Object.keys(t.roundtrip.losses).join(", ")) + "</span>"}</tr>`).join("");
    const cats = Object.entries(data.categories);
    $("#tok-categories").innerHTML = cats.length ? "<h2>Tokens per probe category (the built-in probe text, by category)</h2><table class='data'><tr><th>category" +
      data.tokenizers.map((t) => `<th>${esc(t.name)}`).join("") + "</tr>" + cats.map(([cat, row]) => {
        const best = Math.min(...Object.values(row).map((c) => c.tokens));
        return `<tr><td>${esc(cat)}` + data.tokenizers.map((t) => { const c = row[t.name];
          const most = Math.max(...Object.values(row).map((x) => x.tokens));
          return `<td><span class="cat" style="width:${Math.round(50 * c.tokens / most)}px"></span>${c.tokens === best ? "<b>" + c.tokens + "</b>" : c.tokens}${c.flags.map((f) => `<span class="flag">${f}</span>`).join("")}`; }).join("") + "</tr>";
      }).join("") + "</table>" : "";
    const showWs = $("#tok-ws").checked;
    $("#tok-views").innerHTML = data.tokenizers.map((t) => `<div class="tokview"><h3>${esc(t.name)} <span class="muted">${t.count} tokens · ${esc(t.format)} · ${t.vocab_size.toLocaleString()} ids</span></h3>` +
      `<div class="tokens">${segmentsHtml(t, showWs)}</div></div>`).join("");
    const params = new URLSearchParams({t: names.join(","), text});
    $("#tok-link").href = "#tokens?" + params.toString();
  } catch (err) { $("#tok-error").textContent = err.message; }
}

// ---- search ---------------------------------------------------------------
function parseFilters(text) {
  const out = {};
  for (const part of text.split(";").map((s) => s.trim()).filter(Boolean)) {
    const m = part.match(/^([\w.\-]+)\s*(>=|<=|!=|=|>|<)\s*(.+)$/);
    if (!m) throw new Error(`cannot parse filter "${part}": use field=value or field>=n`);
    const ops = {">=": "gte", "<=": "lte", "!=": "ne", "=": "eq", ">": "gt", "<": "lt"};
    const value = isNaN(Number(m[3])) ? m[3].trim() : Number(m[3]);
    out[m[1]] = {...(out[m[1]] || {}), [ops[m[2]]]: value};
  }
  return out;
}
function highlight(text, spans) {
  const from = Math.max(0, (spans[0] ? spans[0][0] : 0) - 80), to = Math.min(text.length, from + 320);
  let out = from ? "…" : "", pos = from;
  for (const [a, b] of spans) {
    if (b <= from || a >= to) continue;
    out += esc(text.slice(pos, Math.max(a, from))) + "<mark>" + esc(text.slice(Math.max(a, from), Math.min(b, to))) + "</mark>";
    pos = Math.min(b, to);
  }
  return out + esc(text.slice(pos, to)) + (to < text.length ? "…" : "");
}
async function loadCollectionChoices(select = "#search-collection") {
  const current = $(select).value, button = select === "#ask-collection" ? "#ask-form button" : "#search-form button";
  await fillChoices(select, button, () => api("/api/collections"),
    (c) => `<option${c.name === current ? " selected" : ""}>${esc(c.name)}</option>`).catch((err) => {
    $(select === "#ask-collection" ? "#ask-error" : "#search-error").textContent = err.message;
  });
}
function readPicture(file) {  // a chosen file as a data: URI (what the image search endpoint takes)
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result);
    reader.onerror = () => reject(new Error(`cannot read ${file.name}`));
    reader.readAsDataURL(file);
  });
}
function hitHtml(h) {  // a passage, or a picture's tile (its thumbnail and caption) in a grid
  const data = esc(JSON.stringify({title: h.title, text: h.text, id: h.doc_id, metadata: h.metadata}));
  const thumb = h.metadata && typeof h.metadata.thumbnail === "string" && h.metadata.thumbnail.startsWith("data:image/") ? h.metadata.thumbnail : null;
  if (thumb) return `<figure class="hit pic" tabindex="0" data-hit='${data}'><img src="${esc(thumb)}" alt="${esc(h.text)}">` +
    `<figcaption><span class="score">${h.score.toFixed(3)}</span>${h.rank}. ${highlight(h.text, h.highlights)}</figcaption></figure>`;
  return `<div class="hit" tabindex="0" data-hit='${data}'>` +
    `<span class="score">${h.score.toFixed(3)}</span><span class="title">${h.rank}. ${esc(h.title || h.doc_id)}</span>` +
    `<p>${highlight(h.text, h.highlights)}</p></div>`;
}
async function search(event) {
  event.preventDefault();
  $("#search-error").textContent = "";
  const query = $("#search-query").value, name = $("#search-collection").value, rerank = $("#search-rerank").value.trim();
  const file = $("#search-image").files[0];
  if (!query.trim() && !file) { $("#search-error").textContent = "type a query, or choose a picture to search by"; return; }
  let filters, image = null;
  try { filters = parseFilters($("#search-filters").value); } catch (err) { $("#search-error").textContent = err.message; return; }
  const info = await api(`/api/collections/${encodeURIComponent(name)}`).catch((err) => { $("#search-error").textContent = err.message; });
  if (!info) return;
  if (file) {
    if (file.size > 5e6) { $("#search-error").textContent = `${file.name} is ${(file.size / 1e6).toFixed(1)} MB; the limit is 5 MB`; return; }
    image = await readPicture(file).catch((err) => { $("#search-error").textContent = err.message; });
    if (!image) return;
  }
  // a picture: by its vector, and with words also hybrid; words alone: the three modes (and the reranker)
  const modes = image ? (query.trim() ? ["dense", "hybrid"] : ["dense"]) : info.encoder ? ["keyword", "dense", "hybrid"] : ["keyword"];
  const runs = modes.map((mode) => ({mode, rerank: null}));
  if (rerank && info.encoder && query.trim()) runs.push({mode: "hybrid", rerank});
  const asked = [query.trim() ? `“${query}”` : "", file ? file.name : ""].filter(Boolean).join(" + ");
  $("#search-columns").innerHTML = runs.map((r, i) => `<div class="col" id="col-${i}"><h2>${r.mode}${r.rerank ? " + rerank" : ""}</h2><p class="muted">searching…</p></div>`).join("");
  await Promise.all(runs.map(async (r, i) => {
    const el = $("#col-" + i);
    try {
      const url = `/api/collections/${encodeURIComponent(name)}/search` + (image ? "/image" : "");
      const body = {query, mode: r.mode, k: 10, filters, rerank: r.rerank, ...(image ? {image} : {})};
      const res = await api(url, {method: "POST", body: JSON.stringify(body)});
      const pictures = res.hits.some((h) => h.metadata && h.metadata.thumbnail);
      el.innerHTML = `<h2>${esc(res.mode)} <span class="muted">${res.took_ms.toFixed(0)} ms${image ? " · " + esc(asked) : ""}</span></h2>` +
        (res.hits.length ? `<div class="${pictures ? "pics" : ""}">${res.hits.map(hitHtml).join("")}</div>` : "<p class='muted'>no hits</p>");
    } catch (err) { el.innerHTML = `<h2>${r.mode}</h2><p class="error">${esc(err.message)}</p>`; }
  }));
}
function openHit(el) {
  const hit = JSON.parse(el.dataset.hit);
  const {thumbnail, ...meta} = hit.metadata;
  $("#doc-title").textContent = hit.title || hit.id;
  $("#doc-image").hidden = !thumbnail;
  if (thumbnail) { $("#doc-image").src = thumbnail; $("#doc-image").alt = hit.text; }
  $("#doc-meta").textContent = hit.id + (Object.keys(meta).length ? " · " + JSON.stringify(meta) : "");
  $("#doc-text").textContent = hit.text;
  $("#doc-dialog").showModal();
}

// ---- ask: the answer streams in, then its citations point at the passages -------
async function ask(event) {
  event.preventDefault();
  $("#ask-error").textContent = $("#ask-meta").textContent = $("#ask-passages").innerHTML = "";
  $("#ask-answer").innerHTML = "<span class='draft'></span>";
  const name = $("#ask-collection").value;
  const headers = {"content-type": "application/json", accept: "text/event-stream"};
  const key = localStorage.getItem("textlens-key");
  if (key) headers["X-API-Key"] = key;
  const body = JSON.stringify({question: $("#ask-question").value, style: $("#ask-style").value, stream: true});
  let stop = ticking($("#ask-meta"), "searching and reading the passages (the first question also loads the model)");
  try {
    const res = await fetch(`/api/collections/${encodeURIComponent(name)}/ask`, {method: "POST", headers, body});
    if (!res.ok) {
      const err = await res.json().catch(() => ({}));
      throw new Error((err.error || res.statusText) + (err.hint ? " — " + err.hint : ""));
    }
    const reader = res.body.getReader(), decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const {value, done} = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, {stream: true});
      let cut;
      while ((cut = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        const event = block.match(/^event: (.*)$/m)[1], data = JSON.parse(block.match(/^data: (.*)$/m)[1]);
        if (event === "token") {
          if (!$("#ask-answer .draft").textContent) { stop(); stop = ticking($("#ask-meta"), "writing"); }
          $("#ask-answer .draft").textContent += data.text;
        } else if (event === "answer") { stop(); renderAnswer(data); }
        else throw new Error(data.error + (data.hint ? " — " + data.hint : ""));
      }
    }
  } catch (err) { $("#ask-error").textContent = err.message; $("#ask-meta").textContent = ""; } finally { stop(); }
}
function renderAnswer(a) {
  const spans = {};
  a.sentences.forEach((s) => s.citations.forEach((c) => { if (c.span) spans[c.passage] = c.span; }));
  $("#ask-answer").innerHTML = a.abstained
    ? `<p class="abstain">Not in the sources: ${esc(a.reason)}. The closest passages:</p>`
    : a.sentences.map((s) => `<span class="${s.supported ? "" : "unsupported"}" ${s.supported ? "" : "title='no cited passage supports this'"}>${esc(s.text)}</span>` +
        s.citations.map((c) => `<button type="button" class="cite" data-passage="${c.passage}" title="${esc(c.quote)}">[${c.passage}]</button>`).join("") +
        (s.claims || []).filter((c) => c.status === "converted" || (c.status === "unsupported" && s.text.includes(c.text)))
          .map((c) => ` <span class="${c.status === "converted" ? "muted" : "unsupported"}" title="${esc(c.note)}">(${esc(c.text)}: ${c.status === "converted" ? "converted by the model" : "not in the sources"})</span>`).join("")).join(" ");
  $("#ask-passages").innerHTML = a.passages.map((p) => {
    const span = spans[p.number];
    const text = span ? esc(p.text.slice(0, span[0])) + `<mark>${esc(p.text.slice(span[0], span[1]))}</mark>` + esc(p.text.slice(span[1])) : esc(p.text);
    return `<li value="${p.number}" id="ask-p-${p.number}"><b>${esc(p.title || p.doc_id)}</b> <span class="muted">${esc(p.doc_id)}${p.cut ? ", cut to fit" : ""}</span><br>${text}</li>`;
  }).join("");
  const t = a.timings || {};
  $("#ask-meta").textContent = `${a.model}` + (t.total ? ` · ${t.total.toFixed(1)} s` : "") + (t.tokens_per_second ? ` · ${t.tokens_per_second.toFixed(1)} tokens/s` : "") +
    (a.repairs.length ? " · " + a.repairs.join("; ") : "");
}
function showCitation(button) {
  document.querySelectorAll("#ask-passages li").forEach((li) => li.classList.remove("active"));
  const li = $("#ask-p-" + button.dataset.passage);
  li.classList.add("active");
  li.scrollIntoView({block: "nearest"});
}

// ---- collections ----------------------------------------------------------
async function loadCollections() {
  const cols = await api("/api/collections").catch(() => []);
  $("#col-table").innerHTML = "<tr><th>name<th>documents<th>encoder</tr>" +
    cols.map((c) => `<tr><td>${esc(c.name)}<td>${(c.documents || 0).toLocaleString()}<td>${esc(c.encoder || c.error || "keyword only")}</tr>`).join("");
}
async function upload(event) {
  event.preventDefault();
  const name = $("#upload-name").value.trim(), file = $("#upload-file").files[0];
  const lines = (await file.text()).split("\n").filter((l) => l.trim());
  const docs = [];
  for (const [n, line] of lines.entries()) {
    try { const r = JSON.parse(line); docs.push({id: String(r.id ?? r._id ?? n + 1), text: r.text ?? "", title: r.title ?? "", metadata: r.metadata ?? {}}); }
    catch { $("#upload-status").textContent = `${file.name}:${n + 1} is not JSON; nothing was sent.`; return; }
  }
  const bar = $("#upload-progress");
  bar.hidden = false; bar.max = docs.length; bar.value = 0;
  const encoder = $("#upload-keyword-only").checked ? null : "sentence-transformers/all-MiniLM-L6-v2";
  try {
    for (let i = 0; i < docs.length; i += 200) {
      await api(`/api/collections/${encodeURIComponent(name)}/documents`, {method: "POST",
        body: JSON.stringify({documents: docs.slice(i, i + 200), upsert: true, encoder})});
      bar.value = Math.min(docs.length, i + 200);
      $("#upload-status").textContent = `${bar.value} of ${docs.length} documents`;
    }
    $("#upload-status").textContent = `added ${docs.length} documents to ${name}`;
    loadCollections();
  } catch (err) { $("#upload-status").textContent = err.message; }
}

// ---- evaluation -------------------------------------------------------------
async function runEval(event) {
  event.preventDefault();
  const modes = [...document.querySelectorAll("#eval-form input[name=mode]:checked")].map((b) => b.value);
  const bar = $("#eval-progress");
  $("#eval-report").innerHTML = "";
  try {
    const request = $("#eval-beir").value.trim() ? {beir_dir: $("#eval-beir").value.trim(), modes}
      : {collection: $("#eval-collection").value.trim(), qrels: $("#eval-qrels").value.trim(), queries: $("#eval-queries").value.trim(), modes};
    $("#eval-form button").disabled = true;
    let job = await api("/api/eval", {method: "POST", body: JSON.stringify(request)});
    bar.hidden = false;
    const started = performance.now();
    while (job.status === "queued" || job.status === "running") {
      await new Promise((r) => setTimeout(r, 500));
      job = await api("/api/eval/" + job.id);
      const p = job.progress || {};
      if (p.total) { bar.max = p.total; bar.value = p.done; }
      const seconds = Math.floor((performance.now() - started) / 1000);
      $("#eval-status").textContent = `${job.status}: ${p.stage || "starting"} ${p.done || 0}/${p.total || "?"} · ${seconds} s`;
    }
    bar.hidden = true;
    if (job.status === "failed") { $("#eval-status").textContent = "failed: " + job.error; return; }
    const res = job.result, metrics = Object.keys(Object.values(res.results)[0]);
    $("#eval-status").textContent = `${res.dataset} (${res.split}, ${res.queries} queries)`;
    $("#eval-report").innerHTML = "<table class='data'><tr><th>mode" + metrics.map((m) => `<th>${m}`).join("") + "</tr>" +
      Object.entries(res.results).map(([mode, s]) => `<tr><td>${esc(mode)}` + metrics.map((m) =>
        `<td><span class="bar" style="width:${Math.round(80 * s[m])}px"></span>${s[m].toFixed(4)}`).join("") + "</tr>").join("") + "</table>" +
      "<h2>Per query</h2><p class='muted'>nDCG@10 and the rank of the first relevant document per mode; the queries where the modes disagree most come first.</p>" +
      "<table class='data' id='eval-queries-table'><tr><th>query<th>relevant" + Object.keys(res.results).map((m) => `<th>${esc(m)}`).join("") + "</tr>" +
      res.per_query.map((q) => { const vals = Object.values(q["ndcg@10"]), hi = Math.max(...vals), lo = Math.min(...vals);
        return `<tr><td>${esc(q.id)}: ${esc(q.query)}<td>${esc(q.relevant.join(", "))}` + Object.keys(res.results).map((m) => {
          const v = q["ndcg@10"][m], r = q.first_relevant_rank[m];
          const cls = hi > lo && v === hi ? " style='background:#e3f4e6'" : (hi > lo && v === lo ? " style='background:#fbe4e4'" : "");
          return `<td${cls}>${v.toFixed(3)} <span class="muted">#${r ?? "–"}</span>`; }).join("") + "</tr>"; }).join("") + "</table>";
  } catch (err) { $("#eval-status").textContent = err.message; bar.hidden = true; } finally { $("#eval-form button").disabled = false; }
}

// ---- keywords -----------------------------------------------------------------
async function findKeywords(event) {
  event.preventDefault();
  $("#kw-error").textContent = "";
  const text = $("#kw-text").value;
  const diversity = Number($("#kw-diversity").value);
  const body = {texts: [text], ngram_range: [Number($("#kw-min").value), Number($("#kw-max").value)],
    k: Number($("#kw-top").value), diversity: diversity > 0 ? diversity : null};
  if ($("#kw-method").value) { body.llm = true; body.llm_mode = $("#kw-method").value; body.ungrounded = "mark"; }
  $("#kw-list").innerHTML = ""; $("#kw-doc").textContent = body.llm ? "asking the model…" : "";
  try {
    const [result] = await api("/api/keywords", {method: "POST", body: JSON.stringify(body)});
    if (result.note) $("#kw-error").textContent = result.note;
    $("#kw-list").innerHTML = result.keywords.map((k, i) =>
      `<li><mark style="background:${KW_COLOURS[i % KW_COLOURS.length]}">${esc(k.keyword)}</mark> <span class="muted">${k.score.toFixed(3)}${k.variants.length ? " · also " + esc(k.variants.join(", ")) : ""}${k.grounded ? "" : " · not in the text"}</span></li>`).join("");
    const marks = [];
    result.keywords.forEach((k, i) => k.spans.forEach(([a, b]) => {
      if (marks.every(([s, e]) => b <= s || a >= e)) marks.push([a, b, i]);
    }));
    marks.sort((x, y) => x[0] - y[0]);
    let html = "", pos = 0;
    for (const [a, b, i] of marks) {
      html += esc(text.slice(pos, a)) + `<mark style="background:${KW_COLOURS[i % KW_COLOURS.length]}">${esc(text.slice(a, b))}</mark>`;
      pos = b;
    }
    $("#kw-doc").innerHTML = html + esc(text.slice(pos));
  } catch (err) { $("#kw-error").textContent = err.message; }
}

// ---- inside ---------------------------------------------------------------------
const inside = {data: null, head: 0, models: null};
async function loadInsideModels() {
  if (inside.models) return;
  inside.models = fillChoices("#in-model", "#in-form button", () => api("/api/inside/models"),
    (m) => `<option value="${esc(m.name)}" ${m.available ? "" : "disabled"} title="${esc(m.error || m.facts.attention_type)}">${esc(m.name)}${m.available ? "" : " (not here)"}</option>`)
    .catch((err) => { $("#in-error").textContent = err.message; inside.models = null; });
}
function paint(canvas, weights, cell, labels) {
  const n = weights.length, pad = labels ? 90 : 0;
  canvas.width = canvas.height = pad + n * cell;
  const ctx = canvas.getContext("2d");
  ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, canvas.width, canvas.height);
  weights.forEach((row, i) => row.forEach((w, j) => {
    if (w <= 0) return;
    const v = Math.round(255 - 200 * Math.min(1, w));
    ctx.fillStyle = `rgb(${v},${v},255)`; ctx.fillRect(pad + j * cell, pad + i * cell, cell, cell);
  }));
  if (!labels) return;
  ctx.fillStyle = "#1d1d1f"; ctx.font = "11px ui-monospace,monospace"; ctx.textAlign = "right";
  labels.forEach((t, i) => {
    ctx.fillText(t.slice(0, 12), pad - 4, pad + i * cell + cell - 3);
    ctx.save(); ctx.translate(pad + i * cell + cell - 3, pad - 4); ctx.rotate(-Math.PI / 2); ctx.textAlign = "left"; ctx.fillText(t.slice(0, 12), 0, 0); ctx.restore();
  });
}
function drawInside() {
  const d = inside.data, layer = d.layers[0], n = d.tokens.length, start = Math.max(0, n - 64);
  const cut = (w) => w.slice(start).map((row) => row.slice(start));
  const labels = d.tokens.slice(start).map((t, i) => JSON.stringify(t).slice(1, -1) + (start + i >= d.prompt_tokens ? "*" : ""));
  $("#in-heads").innerHTML = d.weights[0].map((_, h) => `<figure data-head="${h}" class="${h === inside.head ? "active" : ""}"><canvas></canvas><figcaption>head ${h}</figcaption></figure>`).join("");
  $("#in-heads").querySelectorAll("figure").forEach((fig) => {
    paint(fig.querySelector("canvas"), cut(d.weights[0][+fig.dataset.head]), Math.max(1, Math.floor(72 / Math.min(n, 64))), null);
    fig.addEventListener("click", () => { inside.head = +fig.dataset.head; drawInside(); });
  });
  $("#in-heatmap").innerHTML = `<h2>Layer ${layer}, head ${inside.head}${start ? ` (the last 64 of ${n} tokens)` : ""}${n > d.prompt_tokens ? "; * generated" : ""}</h2><canvas></canvas>`;
  paint($("#in-heatmap canvas"), cut(d.weights[0][inside.head]), 16, labels);
}
async function showInside(e) {
  e.preventDefault();
  $("#in-error").textContent = "";
  const stop = ticking($("#in-check"), "running the model and recomputing its attention");
  const body = {model: $("#in-model").value, text: $("#in-text").value, generate: +$("#in-generate").value || 0};
  if ($("#in-layer").value !== "") body.layer = +$("#in-layer").value;
  try {
    const d = await api("/api/inside/attention", {method: "POST", body: JSON.stringify(body)});
    stop();
    inside.data = d; inside.head = Math.min(inside.head, d.heads - 1);
    const f = d.facts;
    $("#in-facts").textContent = `${f.name}: ${f.layers} layers × ${f.heads} heads (${f.kv_heads} KV heads, ${f.attention_type}), head size ${f.head_dim}, ${f.parameters.toLocaleString()} parameters; facts from ${f.source}`;
    drawInside();
    const c = d.check;
    $("#in-check").textContent = c ? `Computed step by step here: weights differ from the model's by at most ${c.max_weight_error.toExponential(1)}, the output by ${c.max_output_error.toExponential(1)}.` + (c.notes.length ? " Note: " + c.notes.join(" ") : "") : "";
    $("#in-steps").innerHTML = c ? "<tr><th>step<th>what<th>shape</tr>" + c.steps.map((s, i) => `<tr><td>${i + 1}. ${esc(s.name)}<td style="text-align:left">${esc(s.formula)}<td>${s.shape.join(" × ")}</tr>`).join("") : "";
  } catch (err) { stop(); $("#in-error").textContent = err.message; $("#in-check").textContent = ""; }
}

// ---- languages: token premiums on a parallel text ----------------------------------------------------------
const heat = (p) => { const x = Math.min(Math.max(Math.log2(Math.max(p, 1e-9)), 0), 3) / 3; return `hsl(${Math.round(120 * (1 - x))},70%,${Math.round(85 - 20 * x)}%)`; };
const langs = {rows: [], names: [], key: null, dir: 1};
async function measureLanguages() {
  $("#lang-error").textContent = "";
  const names = [...state.selected];
  let stop = () => {};
  $("#lang-run").disabled = true;
  try {
    // at once where the server has counted these tokenizers before; else a job to poll (each tokenizer once)
    let data = await api("/api/tokens/languages", {method: "POST", body: JSON.stringify({tokenizers: names.length ? names : null, pivot: $("#lang-pivot").value.trim() || "eng"})});
    if (data.kind === "languages" && data.id) {
      stop = ticking($("#lang-status"), `counting ${names.length} tokenizers on 527 languages`);
      let job = data;
      while (job.status === "queued" || job.status === "running") {
        await new Promise((r) => setTimeout(r, 500));
        job = await api("/api/tokens/languages/jobs/" + job.id);
      }
      if (job.status === "failed") throw new Error(job.error);
      data = job.result;
    }
    stop();
    $("#lang-status").textContent = `${data.languages.length} languages of ${data.source}, pivot ${data.pivot}; ${data.seconds.toFixed(1)} s`;
    const byCode = Object.fromEntries(data.languages.map((l) => [l.code, l.name]));
    $("#lang-summary").innerHTML = "<tr><th>tokenizer<th>median premium<th>cheapest<th>most expensive</tr>" + data.tokenizers.map((t) =>
      `<tr><td>${esc(t.name)}<td>${t.median_premium.toFixed(2)}×<td style="text-align:left">${t.cheapest.slice(0, 3).map(([c, p]) => esc(byCode[c] || c) + " " + p.toFixed(2)).join(", ")}` +
      `<td style="text-align:left">${t.dearest.slice(0, 5).map(([c, p]) => esc(byCode[c] || c) + " " + p.toFixed(1)).join(", ")}</tr>`).join("");
    langs.rows = data.languages; langs.names = data.tokenizers.map((t) => t.name); langs.key = null;
    drawLanguages();
  } catch (err) { stop(); $("#lang-status").textContent = ""; $("#lang-error").textContent = err.message; }
  finally { $("#lang-run").disabled = false; }
}
function drawLanguages() {
  const value = (r, key) => key === "name" || key === "script_name" ? r[key] : r.cells[key].premium;
  const rows = langs.key ? [...langs.rows].sort((a, b) => { const x = value(a, langs.key), y = value(b, langs.key);
    return langs.dir * (typeof x === "string" ? x.localeCompare(y) : x - y); }) : langs.rows;
  $("#lang-table").innerHTML = `<thead><tr><th data-key="name">language<th data-key="script_name">script` + langs.names.map((n) => `<th data-key="${esc(n)}">${esc(n)}`).join("") + "</tr></thead><tbody>" +
    rows.map((r) => `<tr><td>${esc(r.name)} <span class="muted">${esc(r.code)}</span><td>${esc(r.script_name)}` + langs.names.map((n) => { const c = r.cells[n];
      return `<td${c.roundtrip_loss > 0.1 ? " class='lossy'" : ""} style="background:${heat(c.premium)}" title="${c.tokens} tokens · ${c.bytes_per_token.toFixed(2)} bytes/token · byte tokens ${(100 * c.byte_share).toFixed(1)}% · unknown ${(100 * c.unk_share).toFixed(1)}%">${c.premium.toFixed(2)}`; }).join("") + "</tr>").join("") + "</tbody>";
}

// ---- wiring -------------------------------------------------------------------
async function init() {
  $("#api-key").value = localStorage.getItem("textlens-key") || "";
  $("#api-key").addEventListener("change", (e) => localStorage.setItem("textlens-key", e.target.value));
  $("#tok-run").addEventListener("click", compare);
  $("#tok-ws").addEventListener("change", compare);
  $("#lang-run").addEventListener("click", measureLanguages);
  document.querySelectorAll(".tabs [role=tab]").forEach((tab) => tab.addEventListener("click", () => {
    document.querySelectorAll(".tabs [role=tab]").forEach((t) => {
      t.setAttribute("aria-selected", String(t === tab));
      $("#" + t.getAttribute("aria-controls")).hidden = t !== tab;
    });
  }));
  $("#lang-table").addEventListener("click", (e) => { const th = e.target.closest("th"); if (!th) return;
    langs.dir = langs.key === th.dataset.key ? -langs.dir : 1; langs.key = th.dataset.key; drawLanguages(); });
  $("#search-form").addEventListener("submit", search);
  $("#upload-form").addEventListener("submit", upload);
  $("#eval-form").addEventListener("submit", runEval);
  $("#kw-form").addEventListener("submit", findKeywords);
  $("#in-form").addEventListener("submit", showInside);
  $("#ask-form").addEventListener("submit", ask);
  $("#ask-answer").addEventListener("click", (e) => { const b = e.target.closest(".cite"); if (b) showCitation(b); });
  $("#ask-answer").addEventListener("mouseover", (e) => { const b = e.target.closest(".cite"); if (b) showCitation(b); });
  $("#search-columns").addEventListener("click", (e) => { const h = e.target.closest(".hit"); if (h) openHit(h); });
  $("#search-columns").addEventListener("keydown", (e) => { const h = e.target.closest(".hit"); if (h && e.key === "Enter") openHit(h); });
  document.addEventListener("keydown", (e) => {
    if (e.key === "/" && !["INPUT", "TEXTAREA"].includes(document.activeElement.tagName)) { e.preventDefault(); location.hash = "#search"; $("#search-query").focus(); }
  });
  $("#tok-run").disabled = true;
  $("#tok-picker").textContent = "loading the tokenizers…";
  state.tokenizers = await api("/api/tokenizers");
  $("#tok-run").disabled = false;
  DEFAULTS.filter((n) => state.tokenizers.some((t) => t.name === n && t.available)).forEach((n) => state.selected.add(n));
  const probe = await api("/api/tokens/compare", {method: "POST", body: JSON.stringify({tokenizers: [], categories: false})}).catch(() => null);
  if (probe && !$("#tok-text").value) $("#tok-text").value = probe.text;
  renderPicker();
  window.addEventListener("hashchange", route);
  route();
  if (!location.hash.includes("?") && (location.hash || "#tokens") === "#tokens") compare();
}
init();
