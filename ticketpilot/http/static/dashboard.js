// TicketPilot operator dashboard: a small single page over /api/v1/dashboard/*.
// Every value is rendered with text nodes (never innerHTML): ticket text is attacker-controlled.
"use strict";

(() => {
  const STATES = ["RUNNING", "WAITING", "RESOLVED", "ESCALATED", "CANCELLED", "FAILED"];
  const OUTCOMES = ["automated", "manual", "shadow"];
  const PAGE = 50;
  const session = { csrf: null };

  // --- DOM helpers --------------------------------------------------------------------------------
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") node.className = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children.flat(Infinity)) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  const view = () => document.getElementById("view");

  function show(...nodes) {
    view().replaceChildren(...nodes.filter((n) => n !== null && n !== undefined && n !== false));
  }

  function flash(message) {
    const box = document.getElementById("flash");
    box.textContent = message || "";
    box.hidden = !message;
  }

  function fmtTime(iso) {
    if (!iso) return "—";
    const d = new Date(iso);
    return isNaN(d) ? String(iso) : d.toISOString().replace("T", " ").slice(0, 19) + " UTC";
  }

  function fmtDuration(seconds) {
    if (seconds === null || seconds === undefined) return "—";
    if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
    if (seconds < 60) return `${seconds.toFixed(1)} s`;
    if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
    return `${Math.floor(seconds / 3600)} h ${Math.round((seconds % 3600) / 60)} min`;
  }

  function fmtPercent(value) {
    return value === null || value === undefined ? "—" : `${(value * 100).toFixed(1)} %`;
  }

  const badge = (text, kind) => el("span", { class: `badge ${kind || String(text).toLowerCase()}` }, text);

  function table(headers, rows, attrs) {
    return el(
      "table",
      attrs || {},
      el("thead", {}, el("tr", {}, headers.map((h) => el("th", {}, h)))),
      el("tbody", {}, rows.length ? rows : el("tr", {}, el("td", { colspan: headers.length, class: "muted" }, "Nothing to show."))),
    );
  }

  function blockerList(blockers) {
    if (!blockers || !blockers.length) return el("span", { class: "muted" }, "none");
    return el(
      "ul",
      { class: "blockers" },
      blockers.map((b) => el("li", {}, el("code", {}, b.name || String(b)), b.detail ? ` ${b.detail}` : "")),
    );
  }

  // --- API ----------------------------------------------------------------------------------------
  class ApiFailure extends Error {
    constructor(status, body) {
      super(`${status} ${body && body.error ? body.error : ""}: ${JSON.stringify(body && body.detail)}`);
      this.status = status;
      this.body = body;
    }
  }

  async function api(path, options) {
    const opts = options || {};
    const headers = { Accept: "application/json" };
    const init = { method: opts.method || "GET", headers, credentials: "same-origin" };
    if (opts.body !== undefined) {
      headers["Content-Type"] = "application/json";
      headers["X-TP-CSRF"] = session.csrf || "";
      init.body = JSON.stringify(opts.body);
    }
    const response = await fetch(path, init);
    if (response.status === 401) {
      window.location.assign("/login");
      throw new ApiFailure(401, { error: "unauthorized" });
    }
    const body = await response.json().catch(() => ({}));
    if (!response.ok) throw new ApiFailure(response.status, body);
    return body;
  }

  function query(params) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v !== "" && v !== null && v !== undefined) q.set(k, v);
    const s = q.toString();
    return s ? `?${s}` : "";
  }

  // --- routing ------------------------------------------------------------------------------------
  function route() {
    const hash = window.location.hash.replace(/^#\/?/, "") || "overview";
    const [path, search] = hash.split("?");
    return { parts: path.split("/").filter(Boolean), params: new URLSearchParams(search || "") };
  }

  function go(path, params) {
    window.location.hash = `#/${path}${params ? query(params) : ""}`;
  }

  async function render() {
    const { parts, params } = route();
    const name = parts[0] || "overview";
    for (const link of document.querySelectorAll("#nav a")) {
      link.classList.toggle("active", link.dataset.view === name);
    }
    flash("");
    try {
      await refreshBanner();
      if (name === "executions" && parts[1]) await renderTimeline(parts[1]);
      else if (name === "executions") await renderExecutions(params);
      else if (name === "decisions") await renderDecisions(params);
      else if (name === "shadow") await renderShadow(params);
      else if (name === "playbooks") await renderPlaybooks();
      else await renderOverview(params);
    } catch (err) {
      if (err instanceof ApiFailure && err.status === 401) return;
      flash(`Could not load this page: ${err.message}`);
    }
  }

  async function refreshBanner() {
    const ks = await api("/api/v1/dashboard/kill_switch");
    document.getElementById("kill-banner").hidden = !ks.on;
    return ks;
  }

  // --- overview -----------------------------------------------------------------------------------
  const PERIODS = { "24h": 86400, "7d": 7 * 86400, "30d": 30 * 86400, all: null };

  async function renderOverview(params) {
    const period = PERIODS[params.get("period")] !== undefined ? params.get("period") : "30d";
    const seconds = PERIODS[period];
    const since = seconds ? new Date(Date.now() - seconds * 1000).toISOString() : "";
    const data = await api(`/api/v1/dashboard/overview${query({ since })}`);
    const select = el(
      "select",
      { id: "period", onchange: (e) => go("overview", { period: e.target.value }) },
      Object.keys(PERIODS).map((p) => el("option", { value: p, selected: p === period }, p === "all" ? "all time" : `last ${p}`)),
    );
    const card = (label, value, id) => el("div", { class: "card", id }, el("div", { class: "value" }, value), el("div", { class: "label" }, label));
    const ex = data.executions;
    show(
      el("h1", {}, "Overview ", select),
      el(
        "div",
        { class: "cards" },
        card("tickets received", data.tickets_received, "card-received"),
        card("automation rate", fmtPercent(data.automation_rate), "card-rate"),
        card("resolved", ex.resolved, "card-resolved"),
        card("escalated", ex.escalated, "card-escalated"),
        card("in progress", ex.in_progress, "card-in-progress"),
        card("median time to resolution", fmtDuration(data.median_time_to_resolution_s), "card-median"),
        card("hours saved (estimate)", data.hours_saved_total.toFixed(2), "card-hours"),
      ),
      el("h2", {}, "Gate decisions"),
      el("p", {}, OUTCOMES.map((o) => [badge(o), ` ${data.decisions[o]}  `])),
      el("h2", {}, "Estimated time saved per playbook"),
      table(
        ["playbook", "resolved", "minutes per ticket", "hours saved"],
        data.hours_saved.map((r) => el("tr", {}, el("td", {}, r.playbook_id), el("td", {}, r.resolved), el("td", {}, r.minutes_per_ticket), el("td", {}, r.hours_saved.toFixed(2)))),
        { id: "hours-saved" },
      ),
    );
  }

  // --- executions ---------------------------------------------------------------------------------
  async function playbookIds() {
    const data = await api("/api/v1/dashboard/playbooks");
    return data.playbooks.map((p) => p.id);
  }

  function filterForm(id, fields, onApply) {
    const form = el("form", { id, class: "filters", onsubmit: (e) => { e.preventDefault(); onApply(new FormData(form)); } }, fields, el("button", { type: "submit", id: `${id}-apply` }, "Apply"));
    return form;
  }

  function selectField(name, label, options, current) {
    return el("label", {}, label, el("select", { name, id: `f-${name}` }, el("option", { value: "" }, "any"), options.map((o) => el("option", { value: o, selected: o === current }, o))));
  }

  function inputField(name, label, type, current) {
    return el("label", {}, label, el("input", { name, id: `f-${name}`, type, value: current || "" }));
  }

  function pager(total, offset, onPage) {
    const prev = el("button", { type: "button", disabled: offset <= 0, onclick: () => onPage(Math.max(0, offset - PAGE)) }, "‹ newer");
    const next = el("button", { type: "button", disabled: offset + PAGE >= total, onclick: () => onPage(offset + PAGE) }, "older ›");
    return el("div", { class: "pager" }, prev, ` ${total ? offset + 1 : 0}–${Math.min(offset + PAGE, total)} of ${total} `, next);
  }

  function paramsOf(form) {
    const out = {};
    for (const [k, v] of form.entries()) if (String(v).trim()) out[k] = String(v).trim();
    return out;
  }

  async function renderExecutions(params) {
    const p = Object.fromEntries(params.entries());
    const offset = Number(p.offset || 0);
    const [ids, data] = await Promise.all([playbookIds(), api(`/api/v1/dashboard/executions${query({ ...p, limit: PAGE })}`)]);
    const form = filterForm(
      "exec-filters",
      [
        selectField("state", "state", STATES, p.state),
        selectField("playbook", "playbook", ids, p.playbook),
        inputField("ticket", "ticket", "number", p.ticket),
        inputField("since", "from", "date", p.since),
        inputField("until", "to", "date", p.until),
      ],
      (fd) => go("executions", paramsOf(fd)),
    );
    const rows = data.items.map((e) =>
      el(
        "tr",
        { class: "execution-row", "data-execution": e.execution_id },
        el("td", {}, fmtTime(e.created_at)),
        el("td", {}, el("strong", {}, `#${e.ticket_id}`), " ", el("span", { class: "summary" }, e.ticket_summary || "")),
        el("td", {}, e.playbook_id, el("span", { class: "muted" }, ` ${e.playbook_version}`)),
        el("td", {}, badge(e.state)),
        el("td", {}, e.current_step || "—"),
        el("td", {}, fmtDuration(e.duration_s)),
        el("td", {}, e.escalation_reason || e.cancel_reason || ""),
        el("td", {}, el("a", { href: `#/executions/${encodeURIComponent(e.execution_id)}`, class: "timeline-link" }, "timeline")),
      ),
    );
    show(
      el("h1", {}, "Executions"),
      form,
      table(["started", "ticket", "playbook", "state", "step", "duration", "reason", ""], rows, { id: "executions" }),
      pager(data.total, offset, (o) => go("executions", { ...p, offset: o })),
    );
  }

  function detailList(detail) {
    const entries = Object.entries(detail || {});
    if (!entries.length) return "";
    return el("dl", { class: "detail" }, entries.map(([k, v]) => [el("dt", {}, k), el("dd", {}, typeof v === "string" ? v : JSON.stringify(v))]));
  }

  async function renderTimeline(executionId) {
    const e = await api(`/api/v1/dashboard/executions/${encodeURIComponent(executionId)}`);
    const facts = el(
      "dl",
      { class: "facts" },
      el("dt", {}, "ticket"), el("dd", {}, `#${e.ticket_id} `, e.ticket_summary || ""),
      el("dt", {}, "playbook"), el("dd", {}, `${e.playbook_id} ${e.playbook_version} (${String(e.playbook_hash).slice(0, 12)})`),
      el("dt", {}, "state"), el("dd", {}, badge(e.state)),
      el("dt", {}, "started"), el("dd", {}, fmtTime(e.created_at)),
      el("dt", {}, "finished"), el("dd", {}, fmtTime(e.finished_at), e.duration_s !== null ? ` (${fmtDuration(e.duration_s)})` : ""),
      e.escalation_reason ? [el("dt", {}, "escalation reason"), el("dd", { id: "escalation-reason", class: "reason" }, e.escalation_reason)] : null,
      e.cancel_reason ? [el("dt", {}, "cancel reason"), el("dd", { class: "reason" }, e.cancel_reason)] : null,
    );
    const steps = e.timeline.map((s) =>
      el(
        "li",
        { class: `step outcome-${s.outcome}`, "data-seq": s.seq },
        el("div", { class: "step-head" }, el("span", { class: "seq" }, `#${s.seq}`), " ", el("strong", {}, s.step_id), s.service ? el("span", { class: "muted" }, ` ${s.service}`) : "", ` attempt ${s.attempt} `, badge(s.outcome), " ", el("span", { class: "muted" }, s.duration_ms !== null ? fmtDuration(s.duration_ms / 1000) : "")),
        el("div", { class: "muted" }, `${fmtTime(s.started_at)} → ${fmtTime(s.finished_at)}`),
        s.error ? el("div", { class: "error" }, s.error) : "",
        detailList(s.detail),
      ),
    );
    show(
      el("p", {}, el("a", { href: "#/executions" }, "‹ all executions")),
      el("h1", {}, "Execution ", el("code", {}, e.execution_id)),
      facts,
      el("h2", {}, "Audit trail"),
      el("ol", { class: "timeline", id: "timeline" }, steps.length ? steps : el("li", { class: "muted" }, "No step has finished yet.")),
    );
  }

  // --- decisions and shadow report ----------------------------------------------------------------
  async function renderDecisions(params) {
    const p = Object.fromEntries(params.entries());
    const offset = Number(p.offset || 0);
    const [ids, data] = await Promise.all([playbookIds(), api(`/api/v1/dashboard/decisions${query({ ...p, limit: PAGE })}`)]);
    const form = filterForm(
      "decision-filters",
      [
        selectField("outcome", "outcome", OUTCOMES, p.outcome),
        selectField("playbook", "playbook", ids, p.playbook),
        inputField("ticket", "ticket", "number", p.ticket),
        inputField("since", "from", "date", p.since),
        inputField("until", "to", "date", p.until),
      ],
      (fd) => go("decisions", paramsOf(fd)),
    );
    const rows = data.items.map((d) =>
      el(
        "tr",
        { class: "decision-row" },
        el("td", {}, fmtTime(d.created_at)),
        el("td", {}, el("strong", {}, `#${d.ticket_id}`), " ", el("span", { class: "summary" }, d.ticket_summary || "")),
        el("td", {}, d.sub_category || "—", el("div", { class: "muted" }, d.classifier)),
        el("td", {}, d.confidence === null ? "—" : fmtPercent(d.confidence)),
        el("td", {}, badge(d.outcome)),
        el("td", {}, d.playbook_id || "—"),
        el("td", { class: "reasoning" }, d.reasoning, (d.risk_flags || []).length ? el("div", { class: "muted" }, `risk: ${d.risk_flags.join(", ")}`) : ""),
        el("td", {}, blockerList(d.blockers)),
      ),
    );
    show(
      el("h1", {}, "Decisions"),
      form,
      table(["when", "ticket", "classified as", "confidence", "outcome", "playbook", "reasoning", "blockers"], rows, { id: "decisions" }),
      pager(data.total, offset, (o) => go("decisions", { ...p, offset: o })),
    );
  }

  const HANDLINGS = ["closed_by_technician", "open", "automated_resolved", "automation_escalated", "automation_in_progress"];

  async function renderShadow() {
    const data = await api("/api/v1/dashboard/shadow");
    const summary = data.by_playbook.map((r) => el("tr", {}, el("td", {}, r.playbook_id), el("td", {}, r.would_automate), HANDLINGS.map((h) => el("td", {}, r[h] || 0))));
    const rows = data.items.map((s) =>
      el(
        "tr",
        { class: "shadow-row" },
        el("td", {}, fmtTime(s.created_at)),
        el("td", {}, el("strong", {}, `#${s.ticket_id}`), " ", el("span", { class: "summary" }, s.ticket_summary || "")),
        el("td", {}, s.playbook_id || "—"),
        el("td", {}, s.confidence === null ? "—" : fmtPercent(s.confidence)),
        el("td", { class: "reasoning" }, s.reasoning),
        el("td", {}, badge(s.final_handling.replaceAll("_", " "), s.final_handling)),
      ),
    );
    show(
      el("h1", {}, "Shadow report"),
      el("p", { class: "muted" }, "Tickets a shadow-mode playbook would have automated, and how each was finally handled."),
      table(["playbook", "would automate", ...HANDLINGS.map((h) => h.replaceAll("_", " "))], summary, { id: "shadow-summary" }),
      el("h2", {}, "Decisions"),
      table(["when", "ticket", "playbook", "confidence", "reasoning", "finally"], rows, { id: "shadow" }),
    );
  }

  // --- playbooks and kill switches ----------------------------------------------------------------
  async function change(path, body) {
    try {
      await api(path, { method: "POST", body });
    } catch (err) {
      flash(`Change refused: ${err.message}`);
      return;
    }
    await render();
  }

  async function renderPlaybooks() {
    const data = await api("/api/v1/dashboard/playbooks");
    const ks = data.kill_switch;
    const globalPanel = el(
      "section",
      { class: `panel ${ks.on ? "danger" : ""}`, id: "global-kill" },
      el("h2", {}, "Global kill switch: ", el("span", { id: "global-kill-state" }, ks.on ? "ON" : "off")),
      ks.forced_by_config ? el("p", {}, "Forced on by policy.kill_switch in the configuration.") : null,
      ks.by ? el("p", { class: "muted" }, `last changed by ${ks.by} at ${fmtTime(ks.updated_at)}`) : null,
      el(
        "button",
        { type: "button", id: "global-kill-toggle", class: ks.runtime_flag ? "" : "danger", onclick: () => change("/api/v1/dashboard/kill_switch", { on: !ks.runtime_flag }) },
        ks.runtime_flag ? "Resume automation" : "Stop all automation",
      ),
    );
    const errors = data.errors.length
      ? el("section", { class: "panel warn", id: "playbook-errors" }, el("h2", {}, "Validation errors"), el("ul", {}, data.errors.map((p) => el("li", {}, el("code", {}, `${p.file}:${p.line}`), ` ${p.message}`))))
      : null;
    const rows = data.playbooks.map((pb) => {
      const base = `/api/v1/dashboard/playbooks/${encodeURIComponent(pb.id)}`;
      const versionSelect = el("select", { class: "version-select" }, pb.versions.map((v) => el("option", { value: v.content_hash, selected: v.active }, `${v.version} · ${v.content_hash.slice(0, 10)} · ${v.source}${v.active ? " (active)" : ""}`)));
      return el(
        "tr",
        { class: "playbook-row", "data-playbook": pb.id },
        el("td", {}, el("strong", {}, pb.id), el("div", { class: "muted" }, pb.name || "")),
        el("td", {}, pb.mode || "—"),
        el("td", {}, pb.active_version || "—", el("div", { class: "muted" }, (pb.active_hash || "").slice(0, 12))),
        el("td", {}, versionSelect, " ", el("button", { type: "button", class: "activate", onclick: () => change(`${base}/activate`, { version: versionSelect.value }) }, "Activate")),
        el("td", {}, badge(pb.enabled ? "enabled" : "disabled"), " ", el("button", { type: "button", class: "toggle-enabled", onclick: () => change(`${base}/enabled`, { enabled: !pb.operator_enabled }) }, pb.operator_enabled ? "Disable" : "Enable")),
        el("td", {}, badge(pb.kill_switch ? "killed" : "live"), " ", el("button", { type: "button", class: `toggle-kill ${pb.kill_switch ? "" : "danger"}`, onclick: () => change(`${base}/kill_switch`, { on: !pb.kill_switch }) }, pb.kill_switch ? "Release" : "Kill")),
        el("td", {}, pb.errors.length ? el("ul", { class: "errors" }, pb.errors.map((p) => el("li", {}, `line ${p.line}: ${p.message}`))) : el("span", { class: "muted" }, "none")),
      );
    });
    show(
      el("h1", {}, "Playbooks"),
      globalPanel,
      errors,
      table(["playbook", "mode", "active", "versions", "enabled", "kill switch", "errors"], rows, { id: "playbooks" }),
    );
  }

  // --- start --------------------------------------------------------------------------------------
  async function start() {
    document.getElementById("logout").addEventListener("click", async () => {
      try {
        await api("/logout", { method: "POST", body: {} });
      } finally {
        window.location.assign("/login");
      }
    });
    try {
      const info = await api("/api/v1/dashboard/session");
      session.csrf = info.csrf_token;
    } catch (err) {
      return;
    }
    window.addEventListener("hashchange", render);
    await render();
    document.body.dataset.ready = "1";
  }

  start();
})();
