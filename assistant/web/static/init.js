// Starts GOV.UK Frontend's and MoJ Frontend's components (an ES module: the strict
// Content-Security-Policy allows no inline script, so the usual inline snippet lives here).
import { initAll as initGovuk } from "/assets/govuk-frontend.min.js";
import { initAll as initMoj } from "/assets/moj-frontend.min.js";

document.body.classList.add("js-enabled", "govuk-frontend-supported");
initGovuk();
initMoj();
