import { cardViolations, takeRecordedCards } from './card-invariants';

// Every card any test produced (through the helpers) must satisfy the CDS Hooks card invariants.
afterEach(() => {
  const cards = takeRecordedCards();
  const failures = cards.flatMap((card) => cardViolations(card).map((problem) => `${card.source?.topic?.code ?? card.summary}: ${problem}`));
  if (failures.length > 0) throw new Error(`Card invariants violated:\n${failures.join('\n')}`);
});
