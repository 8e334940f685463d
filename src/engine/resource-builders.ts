// The drug-specific builders live in src/clinical/resource-builders.ts, below the knowledge compiler that
// checks their params at start-up; this re-export serves build-cards.ts until its rewrite (issue 12).
export { RESOURCE_BUILDERS } from '../clinical/resource-builders';
