/** The `parley` admin subcommands (`rooms`, `mailboxes`) and their admin API client. */
export { runAdmin, isAdminCommand, describeAdminCommands, adminGroups, type AdminIo } from './admin.js';
export { AdminClient, AdminRequestError, adminBaseUrl, ADMIN_REQUEST_TIMEOUT_MS } from './adminClient.js';
export { parseCommand, commandHelp, commonFlags, UsageError, type CommandSpec, type FlagSpec, type ParsedArgs } from './adminArgs.js';
export { roomsGroup, formatRoom, type AdminCommand, type CommandGroup } from './roomsCommand.js';
export { mailboxesGroup } from './mailboxesCommand.js';
