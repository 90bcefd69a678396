//! Bindings for `crate::certify`: the certificate of a finished chain pass as plain Python data.

use super::chain::ChainResult;
use super::runtime::{enter_core, light};
use crate::certify::{self, Check};
use crate::chart::Chart;
use numpy::IntoPyArray;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

fn check_dict<'py>(py: Python<'py>, c: &Check) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("name", &c.name)?;
    d.set_item("section", &c.section)?;
    d.set_item("value", c.value)?;
    d.set_item("lower", c.lower)?;
    d.set_item("upper", c.upper)?;
    d.set_item("margin", c.margin)?;
    d.set_item("holds", c.holds)?;
    d.set_item("vacuous", c.vacuous)?;
    d.set_item("note", &c.note)?;
    Ok(d)
}

/// The SPEC §6 certificate of a chain for the prefix chart `chart` and interface budget `budget`
/// (M > 1; None: the chain's own, log M = L·max log ρ_l), as a dict with `chart`, `terms` (dict),
/// `checks` (list of dicts) and `interfaces` (list of dicts of per-interface numpy columns).
#[pyfunction]
#[pyo3(signature = (result, chart = "ls", budget = None))]
fn certify_chain<'py>(
    py: Python<'py>,
    result: PyRef<'py, ChainResult>,
    chart: &str,
    budget: Option<f64>,
) -> PyResult<Bound<'py, PyDict>> {
    let chart = light(py, Chart::parse(chart))?;
    let res: &ChainResult = &result;
    let cert = enter_core(py, Some(1), |_| {
        certify::certify(&res.run, &res.profile, chart, budget)
    })?;
    let t = &cert.terms;
    let terms = PyDict::new(py);
    terms.set_item("depth", t.depth)?;
    terms.set_item("log_budget", t.log_budget)?;
    terms.set_item("budget_given", t.budget_given)?;
    terms.set_item("slack_sum", t.slack_sum)?;
    terms.set_item("log_rho_sum", t.log_rho_sum)?;
    terms.set_item("log_rho_max", t.log_rho_max)?;
    terms.set_item("factor_epsilon_sum", t.factor_epsilon_sum)?;
    terms.set_item("epsilon_variation", t.epsilon_variation)?;
    terms.set_item("hellinger_variation", t.hellinger_variation)?;
    terms.set_item("log_top_product", t.log_top_product)?;
    terms.set_item("log_top_normalized", t.log_top_normalized)?;
    terms.set_item("exponent_displacement", t.exponent_displacement)?;
    terms.set_item("max_drift", t.max_drift)?;
    let checks = PyList::empty(py);
    for c in &cert.checks {
        checks.append(check_dict(py, c)?)?;
    }
    let interfaces = PyList::empty(py);
    for col in cert.interfaces {
        let d = PyDict::new(py);
        d.set_item("name", col.name)?;
        d.set_item("section", col.section)?;
        d.set_item("value", col.value.into_pyarray(py))?;
        d.set_item("lower", col.lower.into_pyarray(py))?;
        d.set_item("upper", col.upper.into_pyarray(py))?;
        d.set_item("margin", col.margin.into_pyarray(py))?;
        d.set_item("holds", col.holds.into_pyarray(py))?;
        d.set_item("vacuous", col.vacuous.into_pyarray(py))?;
        interfaces.append(d)?;
    }
    let out = PyDict::new(py);
    out.set_item("chart", cert.chart.name())?;
    out.set_item("holds", cert.checks.iter().all(|c| c.holds))?;
    out.set_item("terms", terms)?;
    out.set_item("checks", checks)?;
    out.set_item("interfaces", interfaces)?;
    Ok(out)
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(certify_chain, m)?)?;
    Ok(())
}
