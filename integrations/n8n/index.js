'use strict';
// The package's entry: n8n loads the files listed under "n8n" in package.json.
module.exports = {
  KaanhaApi: require('./credentials/KaanhaApi.credentials').KaanhaApi,
  KaanhaTrigger: require('./nodes/KaanhaTrigger/KaanhaTrigger.node').KaanhaTrigger,
  Kaanha: require('./nodes/Kaanha/Kaanha.node').Kaanha,
};
