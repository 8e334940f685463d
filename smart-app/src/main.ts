import FHIR from 'fhirclient';
import type Client from 'fhirclient/lib/Client';
import './styles.css';
import type { TemplateScope } from '../../src/engine/render-template';
import type { AnyResource } from '../../src/engine/resource-index';
import type { Catalog, CompiledRule } from '../../src/knowledge/types';
import { ruleFromAppContext } from './app-context';
import { el } from './dom';
import { evaluatePatient, type PatientEvaluation } from './evaluate-patient';
import { loadCatalogFromService } from './knowledge';
import { FhirRefusedError, readPatientChart } from './patient-chart';
import { renderPrerequisites } from './prerequisites';
import { setStatus } from './status';
import { renderTimeline } from './timeline-chart';
import { timelineData } from './timeline-data';
import { renderTimelineTable } from './timeline-table';
import { findRule, renderWhy, viewRule, type Decision } from './why-card';

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

const NO_CONTEXT =
  'This app was opened without a launch context. Open it from the link on a card in your EHR, or start it standalone with launch.html?iss=<FHIR server URL>.';

function patientBanner(patient: AnyResource | undefined, patientId: string): string {
  const name = (patient?.name as { given?: string[]; family?: string; text?: string }[] | undefined)?.[0];
  const shown = name ? (name.text ?? `${(name.given ?? []).join(' ')} ${name.family ?? ''}`.trim()) : `Patient ${patientId}`;
  const born = typeof patient?.birthDate === 'string' ? ` · born ${patient.birthDate}` : '';
  const gender = typeof patient?.gender === 'string' ? ` · ${patient.gender}` : '';
  return `${shown}${gender}${born}`;
}

/** Words, not symbols, so a screen reader says where each rule stands. */
const DECISION_WORD: Record<Decision, string> = {
  fires: 'applies',
  hidden: 'hidden by a stronger card',
  undecided: 'data missing',
  'not-met': 'does not apply',
};

/** The rule picker: every rule of every rule set, marked with where it stands now. */
function fillRulePicker(select: HTMLSelectElement, catalog: Catalog, decide: (rule: CompiledRule) => Decision, selected: string): void {
  select.replaceChildren(
    ...[...catalog.ruleSets.values()].map((ruleSet) =>
      el(
        'optgroup',
        { label: ruleSet.id === 'patient-view' ? 'Chart open (patient-view)' : ruleSet.id === 'order' ? 'Ordering (order-select / order-sign)' : ruleSet.id },
        ...ruleSet.rules.map((rule) =>
          el('option', { value: rule.id, ...(rule.id === selected ? { selected: '' } : {}) }, `${rule.title} — ${DECISION_WORD[decide(rule)]}`),
        ),
      ),
    ),
  );
  select.value = selected;
}

function initialRule(catalog: Catalog, evaluation: PatientEvaluation, fromCard: string | undefined): string | undefined {
  if (fromCard && findRule(catalog, fromCard)) return fromCard;
  const first = evaluation.evaluations.get('patient-view')?.matches[0] ?? [...evaluation.evaluations.values()].find((e) => e.matches.length > 0)?.matches[0];
  return first?.rule.id ?? [...catalog.ruleSets.values()][0]?.rules[0]?.id;
}

async function connect(): Promise<Client | undefined> {
  try {
    return await FHIR.oauth2.ready();
  } catch (error) {
    const status = (error as { status?: unknown }).status;
    setStatus(
      typeof status === 'number' ? `The authorization server refused the launch (HTTP ${status}). Launch the app again from the EHR.` : NO_CONTEXT,
      'error',
    );
    return undefined;
  }
}

async function start(): Promise<void> {
  setStatus('Connecting…', 'busy');
  const client = await connect();
  if (!client) return;
  const patientId = client.patient.id;
  if (!patientId) {
    setStatus('The launch gave no patient: open the app from a patient’s card in your EHR.', 'error');
    return;
  }
  const fromCard = ruleFromAppContext((client.state.tokenResponse as { appContext?: unknown } | undefined)?.appContext);
  setStatus('Reading the chart from the FHIR server…', 'busy');
  const catalog = await loadCatalogFromService();
  const fhirUser = client.getFhirUser() ?? undefined;
  const chart = await readPatientChart(client, catalog, String(patientId), fhirUser);
  const now = Date.now();
  const evaluation = evaluatePatient(catalog, chart, now);

  $('patient-banner').textContent = patientBanner(chart.patient, String(patientId));
  $('app').hidden = false;

  const data = timelineData(catalog, evaluation.facts, evaluation.index, now);
  const chartElement = $('timeline-chart');
  // The lane labels' width depends on the panel's width: draw again when it crosses the breakpoint.
  let wide = chartElement.clientWidth >= 600;
  let timeline = renderTimeline(chartElement, data, now);
  new ResizeObserver(() => {
    if (wide !== chartElement.clientWidth >= 600) {
      wide = !wide;
      timeline = renderTimeline(chartElement, data, now);
    } else timeline.resize();
  }).observe(chartElement);
  renderTimelineTable($('timeline-table').querySelector('tbody')!, data);

  const scope: TemplateScope = { facts: evaluation.facts, settings: catalog.settings, context: { patientId: String(patientId), userId: fhirUser ?? '' }, now };
  const views = new Map<string, ReturnType<typeof viewRule>>();
  const viewOf = (rule: CompiledRule) => {
    let view = views.get(rule.id);
    if (!view) views.set(rule.id, (view = viewRule(catalog, evaluation, rule, scope)));
    return view;
  };
  const select = $<HTMLSelectElement>('rule-select');
  const showRule = (ruleId: string) => {
    const rule = findRule(catalog, ruleId);
    if (rule) renderWhy($('why-content'), viewOf(rule), catalog, evaluation);
  };
  const first = initialRule(catalog, evaluation, fromCard);
  if (first) {
    fillRulePicker(select, catalog, (rule) => viewOf(rule).decision, first);
    showRule(first);
  }
  select.addEventListener('change', () => showRule(select.value));

  renderPrerequisites($('prerequisite-list'), catalog, evaluation.facts);
  setStatus(chart.gaps.length > 0 ? `Some data could not be read: ${chart.gaps.join('; ')}.` : '', 'ready');
}

start().catch((error: unknown) => {
  if (error instanceof FhirRefusedError) {
    setStatus(`The FHIR server refused access (HTTP ${error.status}): your session may have expired. Launch the app again from the EHR.`, 'error');
    return;
  }
  setStatus(`The app could not load: ${error instanceof Error ? error.message : String(error)}.`, 'error');
});
