// Fact types live at the bottom layer (src/schemas/facts.ts) so that src/clinical can use them; this
// re-export serves build-cards.ts and render-template.ts until their rewrite (issue 12) imports them there.
export type { Fact, Facts } from '../schemas/facts';
