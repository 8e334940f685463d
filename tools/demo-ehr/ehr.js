/*
 * A minimal EHR in the browser that plays the CDS Hooks client, like the public sandbox does:
 * it lists the demo FHIR server's patients, calls discovery, resolves the prefetch templates against
 * the FHIR server (form-encoded POST _search), calls patient-view / order-select / order-sign with an
 * ES384 JWT signed in the browser (WebCrypto; aud = the URL called), renders the cards and posts
 * feedback when a suggestion is accepted. Every call is cross-origin, so CORS is exercised.
 *
 * Query parameters: cds (service base URL), fhir (FHIR base URL), patient (id to open), hook
 * (patient-view | order-select | order-sign: run it on load), user (Practitioner/…).
 * Plain browser JavaScript, no build step and no dependency.
 */
(() => {
  'use strict';
  const params = new URLSearchParams(location.search);
  const config = {
    cds: (params.get('cds') || 'http://localhost:8080').replace(/\/+$/, ''),
    fhir: (params.get('fhir') || 'http://localhost:8081').replace(/\/+$/, ''),
    user: params.get('user') || 'Practitioner/demo-oncologist',
  };
  const $ = (id) => document.getElementById(id);
  const state = { patientId: undefined, services: undefined, signer: undefined, lastDraft: undefined };

  // ---- ES384 JWT (WebCrypto) ------------------------------------------------------------------
  const b64url = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  const b64urlText = (text) => b64url(new TextEncoder().encode(text));

  async function createSigner() {
    const keys = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-384' }, false, ['sign', 'verify']);
    const kid = `demo-ehr-${crypto.randomUUID()}`;
    const iss = `${location.origin}/demo-ehr`;
    return async (aud) => {
      const iat = Math.floor(Date.now() / 1000);
      const header = b64urlText(JSON.stringify({ alg: 'ES384', typ: 'JWT', kid }));
      const payload = b64urlText(JSON.stringify({ iss, aud, exp: iat + 300, iat, jti: crypto.randomUUID() }));
      // WebCrypto ECDSA signatures are already the raw r‖s form JWS needs.
      const signature = await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-384' }, keys.privateKey, new TextEncoder().encode(`${header}.${payload}`));
      return `${header}.${payload}.${b64url(signature)}`;
    };
  }

  async function cdsFetch(url, body) {
    const headers = { accept: 'application/json', authorization: `Bearer ${await state.signer(url)}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(url, { method: body === undefined ? 'GET' : 'POST', headers, body: body === undefined ? undefined : JSON.stringify(body) });
    let json;
    try {
      json = await response.json();
    } catch {
      json = undefined;
    }
    return { status: response.status, ok: response.ok, json };
  }

  // ---- FHIR ------------------------------------------------------------------------------------
  async function fhirGet(path) {
    const response = await fetch(`${config.fhir}/${path}`, { headers: { accept: 'application/fhir+json' } });
    if (!response.ok) throw new Error(`FHIR ${path}: HTTP ${response.status}`);
    return response.json();
  }

  /** Fills {{context.x}} and user tokens; undefined when a token cannot be resolved (skip the key). */
  function fillTemplate(template, context) {
    let missing = false;
    const query = template.replace(/\{\{\s*([^}]*?)\s*\}\}/g, (_m, token) => {
      let value;
      if (token.startsWith('context.') && !token.slice(8).includes('.')) value = context[token.slice(8)];
      else if (token === 'userPractitionerId' && String(context.userId).startsWith('Practitioner/')) value = String(context.userId).split('/')[1];
      if (typeof value !== 'string' && typeof value !== 'number') {
        missing = true;
        return '';
      }
      return encodeURIComponent(String(value));
    });
    return missing ? undefined : query;
  }

  async function resolvePrefetch(templates, context) {
    const prefetch = {};
    await Promise.all(
      Object.entries(templates || {}).map(async ([key, template]) => {
        const query = fillTemplate(template, context);
        if (query === undefined) return;
        const [path, search] = query.split('?');
        try {
          const response =
            search === undefined
              ? await fetch(`${config.fhir}/${path}`, { headers: { accept: 'application/fhir+json' } })
              : await fetch(`${config.fhir}/${path}/_search`, { method: 'POST', headers: { accept: 'application/fhir+json', 'content-type': 'application/x-www-form-urlencoded' }, body: search });
          if (response.ok) prefetch[key] = await response.json();
        } catch {
          // A failed key is omitted: the service fetches it itself.
        }
      }),
    );
    return prefetch;
  }

  // ---- Markdown (the subset the cards use) -----------------------------------------------------
  const safeUrl = (url) => (typeof url === 'string' && /^https?:\/\//i.test(url) ? url : undefined);
  const escapeHtml = (text) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
  function inline(text) {
    return escapeHtml(text)
      .replace(/\[([^\]]+)\]\((https?:\/\/(?:[^()\s]|\([^()\s]*\))+)\)/g, (_m, label, url) => `<a href="${url}" target="_blank" rel="noopener">${label}</a>`)
      .replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>')
      .replace(/(^|[\s(])_([^_]+)_(?=[\s.,;:)]|$)/g, '$1<em>$2</em>')
      .replace(/`([^`]+)`/g, '<code>$1</code>');
  }
  function markdown(text) {
    const html = [];
    for (const block of text.split(/\n\s*\n/)) {
      // Within a block, consecutive "- " lines form a list; other lines form paragraphs.
      let paragraph = [];
      let items = [];
      const flush = () => {
        if (paragraph.length > 0) html.push(`<p>${paragraph.map(inline).join(' ')}</p>`);
        if (items.length > 0) html.push(`<ul>${items.map((item) => `<li>${inline(item)}</li>`).join('')}</ul>`);
        paragraph = [];
        items = [];
      };
      for (const line of block.split('\n')) {
        if (line.trim() === '') continue;
        const item = /^\s*[-*] (.*)$/.exec(line);
        if (item) {
          if (paragraph.length > 0) {
            html.push(`<p>${paragraph.map(inline).join(' ')}</p>`);
            paragraph = [];
          }
          items.push(item[1]);
        } else {
          if (items.length > 0) flush();
          paragraph.push(line);
        }
      }
      flush();
    }
    return html.join('');
  }

  // ---- Rendering ------------------------------------------------------------------------------
  function setStatus(text, stateName) {
    const status = $('status');
    status.textContent = text;
    status.dataset.state = stateName;
  }

  function renderCards(cards, serviceId) {
    const container = $('cards');
    container.replaceChildren();
    for (const card of cards) {
      const element = document.createElement('article');
      element.className = `card card--${card.indicator}`;
      element.dataset.rule = (card.source.topic && card.source.topic.code) || '';
      element.dataset.indicator = card.indicator;
      const sourceUrl = safeUrl(card.source.url);
      const sourceLink = sourceUrl ? `<a href="${escapeHtml(sourceUrl)}" target="_blank" rel="noopener">${escapeHtml(card.source.label)}</a>` : escapeHtml(card.source.label);
      element.innerHTML = `
        <header><span class="indicator">${escapeHtml(card.indicator)}</span><h4 class="summary">${escapeHtml(card.summary)}</h4><span class="rule">${escapeHtml(element.dataset.rule)}</span></header>
        ${card.detail ? `<div class="detail">${markdown(card.detail)}</div>` : ''}
        <div class="source">Source: ${sourceLink}</div>`;
      if (card.suggestions && card.suggestions.length > 0) {
        const row = document.createElement('div');
        row.className = 'suggestions';
        card.suggestions.forEach((suggestion) => {
          const button = document.createElement('button');
          button.type = 'button';
          button.className = `suggestion${suggestion.isRecommended ? ' recommended' : ''}`;
          button.textContent = suggestion.label;
          button.addEventListener('click', () => acceptSuggestion(card, suggestion, serviceId, element));
          row.append(button);
        });
        element.append(row);
      }
      if (card.links && card.links.length > 0) {
        const links = document.createElement('div');
        links.className = 'links';
        links.innerHTML = card.links
          .map((link) => {
            if (!safeUrl(link.url)) return escapeHtml(link.label);
            // A SMART link is launched (EHR launch: iss + launch), in a new tab so this page stays.
            const href = link.type === 'smart' ? smartLaunchUrl(link) : link.url;
            const className = link.type === 'smart' ? ' class="app-link"' : '';
            return `<a${className} href="${escapeHtml(href)}" target="_blank" rel="noopener">${escapeHtml(link.label)}</a>`;
          })
          .join(' · ');
        element.append(links);
      }
      container.append(element);
    }
  }

  /**
   * EHR launch of a card's SMART link: the app's URL with iss (our FHIR server) and a launch
   * parameter that the demo FHIR server's authorize endpoint understands — base64url JSON of the
   * patient in context and the card's appContext (CDS Hooks 2.0: handed to the app with its token).
   */
  function smartLaunchUrl(link) {
    const launch = b64urlText(JSON.stringify({ patient: state.patientId, ...(link.appContext ? { appContext: link.appContext } : {}) }));
    const url = new URL(link.url);
    url.searchParams.set('iss', config.fhir);
    url.searchParams.set('launch', launch);
    return url.toString();
  }

  /** Accepting a suggestion: the sandbox posts feedback when card and suggestion carry uuids. */
  async function acceptSuggestion(card, suggestion, serviceId, element) {
    let note = element.querySelector('.feedback');
    if (!note) {
      note = document.createElement('div');
      note.className = 'feedback';
      element.append(note);
    }
    if (!card.uuid || !suggestion.uuid) {
      note.textContent = 'accepted (no feedback: missing uuid)';
      return;
    }
    const url = `${config.cds}/cds-services/${encodeURIComponent(serviceId)}/feedback`;
    const body = { feedback: [{ card: card.uuid, outcome: 'accepted', acceptedSuggestions: [{ id: suggestion.uuid }], outcomeTimestamp: new Date().toISOString() }] };
    try {
      const result = await cdsFetch(url, body);
      note.textContent = `accepted "${suggestion.label}": feedback HTTP ${result.status}${result.status === 404 ? ' (this service build has no feedback route)' : ''}`;
      note.dataset.status = String(result.status);
    } catch (error) {
      note.textContent = `feedback failed: ${error.message}`;
      note.dataset.status = 'error';
    }
  }

  function zoledronicDraft(patientId) {
    return {
      resourceType: 'MedicationRequest',
      id: 'draft-zoledronic-acid',
      status: 'draft',
      intent: 'order',
      category: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/medicationrequest-category', code: 'outpatient' }] },
      medicationCodeableConcept: {
        coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: '351114', display: 'zoledronic acid 4 MG per 5 ML injection' }],
        text: 'zoledronic acid 4 mg/5 mL concentrate for infusion',
      },
      subject: { reference: `Patient/${patientId}` },
      dosageInstruction: [
        {
          text: '4 mg IV over 15 minutes every 6 months',
          timing: { repeat: { frequency: 1, period: 6, periodUnit: 'mo', duration: 15, durationUnit: 'min' } },
          route: { coding: [{ system: 'http://snomed.info/sct', code: '47625008', display: 'Intravenous route' }] },
          doseAndRate: [{ doseQuantity: { value: 4, unit: 'mg', system: 'http://unitsofmeasure.org', code: 'mg' } }],
        },
      ],
    };
  }

  async function runHook(hook) {
    if (!state.patientId) return;
    $('hook-label').textContent = `· ${hook}`;
    $('cards').replaceChildren();
    setStatus(`calling ${hook}…`, 'busy');
    try {
      if (!state.services) {
        const discovery = await cdsFetch(`${config.cds}/cds-services`);
        if (!discovery.ok) throw new Error(`discovery: HTTP ${discovery.status}`);
        state.services = discovery.json.services;
      }
      const service = state.services.find((s) => s.hook === hook);
      if (!service) throw new Error(`no service for ${hook}`);
      const context = { userId: config.user, patientId: state.patientId };
      if (hook !== 'patient-view') {
        const draft = zoledronicDraft(state.patientId);
        context.draftOrders = { resourceType: 'Bundle', entry: [{ resource: draft }] };
        if (hook === 'order-select') context.selections = [`MedicationRequest/${draft.id}`];
      }
      const prefetch = await resolvePrefetch(service.prefetch, context);
      const request = { hookInstance: crypto.randomUUID(), hook, fhirServer: config.fhir, context, prefetch };
      const result = await cdsFetch(`${config.cds}/cds-services/${encodeURIComponent(service.id)}`, request);
      if (!result.ok) throw new Error(`${hook}: HTTP ${result.status}`);
      const cards = result.json.cards || [];
      renderCards(cards, service.id);
      setStatus(cards.length === 0 ? `${hook}: no cards` : `${hook}: ${cards.length} card(s)`, 'done');
    } catch (error) {
      setStatus(`error: ${error.message}`, 'error');
    }
  }

  async function openPatient(patientId) {
    state.patientId = patientId;
    for (const link of document.querySelectorAll('#patient-list a')) link.setAttribute('aria-current', String(link.dataset.id === patientId));
    for (const id of ['open-chart', 'order-zoledronic', 'sign-order']) $(id).disabled = false;
    const patient = await fhirGet(`Patient/${encodeURIComponent(patientId)}`);
    const name = patient.name && patient.name[0] ? `${(patient.name[0].given || []).join(' ')} ${patient.name[0].family || ''}` : patientId;
    $('banner').textContent = `${name} · ${patient.gender || ''} · born ${patient.birthDate || '?'} · ${patientId}`;
    $('banner').classList.remove('muted');
    const conditions = await fhirGet(`Condition?patient=${encodeURIComponent(patientId)}`);
    $('problems').replaceChildren(
      ...(conditions.entry || []).map((entry) => {
        const li = document.createElement('li');
        li.textContent = (entry.resource.code && (entry.resource.code.text || (entry.resource.code.coding || [])[0]?.display)) || 'condition';
        return li;
      }),
    );
  }

  async function loadPatients() {
    const bundle = await fhirGet('Patient?_count=100');
    const list = $('patient-list');
    const entries = (bundle.entry || []).slice().sort((a, b) => String(a.resource.id).localeCompare(String(b.resource.id)));
    list.replaceChildren(
      ...entries.map((entry) => {
        const patient = entry.resource;
        const li = document.createElement('li');
        const a = document.createElement('a');
        a.href = `?${new URLSearchParams({ cds: config.cds, fhir: config.fhir, patient: patient.id, hook: 'patient-view' })}`;
        a.dataset.id = patient.id;
        const name = patient.name && patient.name[0] ? `${(patient.name[0].given || [])[0] || ''} ${patient.name[0].family || ''}` : patient.id;
        a.innerHTML = `${escapeHtml(name)}<br><small>${escapeHtml(patient.id)} · born ${escapeHtml(patient.birthDate || '?')}</small>`;
        li.append(a);
        return li;
      }),
    );
  }

  async function start() {
    $('endpoints').textContent = `CDS ${config.cds} · FHIR ${config.fhir}`;
    state.signer = await createSigner();
    $('open-chart').addEventListener('click', () => runHook('patient-view'));
    $('order-zoledronic').addEventListener('click', () => runHook('order-select'));
    $('sign-order').addEventListener('click', () => runHook('order-sign'));
    try {
      await loadPatients();
    } catch (error) {
      $('patient-list').innerHTML = `<li class="muted">FHIR server unreachable: ${escapeHtml(error.message)}</li>`;
    }
    const patient = params.get('patient');
    if (patient) {
      await openPatient(patient);
      const hook = params.get('hook');
      if (hook === 'patient-view' || hook === 'order-select' || hook === 'order-sign') await runHook(hook);
    }
  }

  start().catch((error) => setStatus(`error: ${error.message}`, 'error'));
})();
