// Runs a Zabbix webhook media type script under node the way Zabbix's Duktape engine does:
// the script is a function body receiving `value` (the parameters as a JSON string), with the
// globals Zabbix.log and HttpRequest (synchronous: here through curl).
//   node zabbix_runner.js SCRIPT_FILE < parameters.json
// prints {"result": ...} or {"error": ...}, and the log lines.
'use strict';

const fs = require('fs');
const childProcess = require('child_process');

const logs = [];

global.Zabbix = {
    log: function (level, message) {
        logs.push({level: level, message: String(message)});
    }
};

global.HttpRequest = function () {
    const headers = [];
    let status = 0;
    this.addHeader = function (header) {
        headers.push(header);
    };
    this.setProxy = function () {};
    this.getStatus = function () {
        return status;
    };
    this.post = function (url, body) {
        const args = ['-s', '-S', '-X', 'POST', '--data-binary', '@-', '-w', '\n%{http_code}'];
        headers.forEach(function (header) {
            args.push('-H', header);
        });
        args.push(url);
        const output = childProcess.execFileSync('curl', args, {input: body}).toString('utf8');
        const cut = output.lastIndexOf('\n');
        status = parseInt(output.substring(cut + 1), 10);
        return output.substring(0, cut);
    };
};

const script = fs.readFileSync(process.argv[2], 'utf8');
const value = fs.readFileSync(0, 'utf8');
let outcome;
try {
    outcome = {result: new Function('value', script)(value)};
} catch (error) {
    outcome = {error: String(error)};
}
outcome.logs = logs;
process.stdout.write(JSON.stringify(outcome));
