export { createDashboardHandler, type DashboardOptions, type DashboardHandler } from "./handler.js";
export { startDashboard, type DashboardServerOptions, type DashboardServer } from "./server.js";
