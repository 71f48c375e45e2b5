import { getAdjacencyMap, toDirectedGraph, getStateNodes } from 'xstate/graph';
import { createModeMachine } from '../../../firmware/modes.ts';
const m = createModeMachine();
const t0=Date.now();
const plan = { station:'beijing', latDeg:40, lonDeg:116, altM:50, startS:100, endS:400, minElevationDeg:15, tleLine1:'', tleLine2:'' };
const events = [
 ...['OFF','BOOT','STANDBY','ACQUISITION','FINE_POINTING','QKD','SAFE'].map(mode=>({type:'SET_MODE',mode})),
 {type:'SELF_TEST_FAIL', board:'apt'}, {type:'CONFIG_BANK_FAILED', bank:'A', reason:'x'},
 {type:'CONFIG_LOADED', bank:'B', generation:3, params: m.config.context ? undefined : undefined},
 {type:'PLAN_UPLOADED', plan},
 {type:'BEACON_FOUND', offsetUrad: 100},{type:'FINE_LOCKED', errorUrad:1},{type:'FINE_LOST', errorUrad:9},
 {type:'CAL_OK', errorPct:0.5, iterations:3},{type:'CAL_FAIL', errorPct:9},
 {type:'FAULT', fault:'OVER_TEMPERATURE', action:'SAFE', detail:'hot'},
 {type:'FAULT', fault:'LOCK_LOST_TOO_LONG', action:'REACQUIRE', detail:''},
 {type:'FAULT', fault:'INTENSITY_DRIFT', action:'RECALIBRATE', detail:''},
 {type:'FAULT', fault:'BOARD_NOT_ANSWERING', action:'RETRY', detail:''},
 {type:'FAULT_CLEARED', fault:'OVER_TEMPERATURE'},
];
const adj = getAdjacencyMap(m as any, { events: events as any, serializeState: (s:any)=> JSON.stringify([s.value, s.context.plan!==null, s.context.faultsLatched!==0, s.context.causesActive!==0, s.context.attempt, s.context.calAttempt]) , limit: 100000});
const keys = Object.keys(adj);
console.log('states', keys.length, 'edges', keys.reduce((a,k)=>a+Object.keys((adj as any)[k].transitions).length,0), Date.now()-t0,'ms');
const g = toDirectedGraph(m as any);
let n=0; const walk=(x:any)=>{n+=x.edges.length; x.children.forEach(walk)}; walk(g); console.log('graph edges', n, 'nodes', getStateNodes(m as any).length);
