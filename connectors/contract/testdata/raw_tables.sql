CREATE TABLE IF NOT EXISTS raw.credit_customers (
    cust_no VARCHAR,
    cust_type VARCHAR,
    name VARCHAR,
    id_type VARCHAR,
    id_no VARCHAR,
    mobile VARCHAR,
    birth_date DATE,
    industry_code VARCHAR,
    annual_revenue DECIMAL(18,2),
    legal_rep_name VARCHAR,
    legal_rep_id_no VARCHAR,
    rm_id VARCHAR,
    branch_code VARCHAR,
    open_date DATE,
    update_time TIMESTAMPTZ,
    _extra JSON,
    _load_id BIGINT,
    _source VARCHAR,
    _ingested_at TIMESTAMPTZ
);
CREATE TABLE IF NOT EXISTS raw.credit_loans (
    loan_no VARCHAR,
    cust_no VARCHAR,
    product_code VARCHAR,
    product_name VARCHAR,
    currency VARCHAR,
    contract_amount DECIMAL(18,2),
    balance DECIMAL(18,2),
    interest_rate DECIMAL(12,6),
    start_date DATE,
    maturity_date DATE,
    five_class VARCHAR,
    overdue_days BIGINT,
    status VARCHAR,
    _extra JSON,
    _load_id BIGINT,
    _source VARCHAR,
    _ingested_at TIMESTAMPTZ
);
CREATE TABLE IF NOT EXISTS raw.credit_repayments (
    loan_no VARCHAR,
    due_date DATE,
    paid_date DATE,
    principal_due DECIMAL(18,2),
    principal_paid DECIMAL(18,2),
    interest_paid DECIMAL(18,2),
    _extra JSON,
    _load_id BIGINT,
    _source VARCHAR,
    _ingested_at TIMESTAMPTZ
);
CREATE TABLE IF NOT EXISTS raw.wealth_clients (
    client_id VARCHAR,
    name VARCHAR,
    id_type VARCHAR,
    id_no VARCHAR,
    mobile VARCHAR,
    risk_level VARCHAR,
    risk_assessed_on DATE,
    segment VARCHAR,
    rm_id VARCHAR,
    _extra JSON,
    _load_id BIGINT,
    _source VARCHAR,
    _ingested_at TIMESTAMPTZ
);
CREATE TABLE IF NOT EXISTS raw.wealth_holdings (
    client_id VARCHAR,
    product_code VARCHAR,
    product_type VARCHAR,
    currency VARCHAR,
    amount_cny DECIMAL(18,2),
    open_date DATE,
    maturity_date DATE,
    product_risk VARCHAR,
    as_of_date DATE,
    _extra JSON,
    _load_id BIGINT,
    _source VARCHAR,
    _ingested_at TIMESTAMPTZ
);
CREATE TABLE IF NOT EXISTS raw.wealth_trades (
    trade_id VARCHAR,
    client_id VARCHAR,
    product_code VARCHAR,
    side VARCHAR,
    amount_cny DECIMAL(18,2),
    trade_time TIMESTAMPTZ,
    channel VARCHAR,
    _extra JSON,
    _load_id BIGINT,
    _source VARCHAR,
    _ingested_at TIMESTAMPTZ
);
CREATE TABLE IF NOT EXISTS raw.card_holders (
    holder_id VARCHAR,
    name VARCHAR,
    id_type VARCHAR,
    id_no VARCHAR,
    mobile VARCHAR,
    birth_date DATE,
    employer VARCHAR,
    annual_income DECIMAL(18,2),
    _extra JSON,
    _load_id BIGINT,
    _source VARCHAR,
    _ingested_at TIMESTAMPTZ
);
CREATE TABLE IF NOT EXISTS raw.card_accounts (
    card_account_id VARCHAR,
    holder_id VARCHAR,
    primary_holder_id VARCHAR,
    product_tier VARCHAR,
    credit_limit DECIMAL(18,2),
    open_date DATE,
    status VARCHAR,
    card_last4 VARCHAR,
    _extra JSON,
    _load_id BIGINT,
    _source VARCHAR,
    _ingested_at TIMESTAMPTZ
);
CREATE TABLE IF NOT EXISTS raw.card_txns (
    txn_id VARCHAR,
    card_account_id VARCHAR,
    txn_time TIMESTAMPTZ,
    amount DECIMAL(18,2),
    currency VARCHAR,
    mcc VARCHAR,
    merchant_name VARCHAR,
    country_code VARCHAR,
    channel VARCHAR,
    txn_type VARCHAR,
    _extra JSON,
    _load_id BIGINT,
    _source VARCHAR,
    _ingested_at TIMESTAMPTZ
);
CREATE TABLE IF NOT EXISTS raw.ebank_users (
    user_id VARCHAR,
    user_type VARCHAR,
    name VARCHAR,
    id_no VARCHAR,
    mobile VARCHAR,
    registered_at TIMESTAMPTZ,
    status VARCHAR,
    _extra JSON,
    _load_id BIGINT,
    _source VARCHAR,
    _ingested_at TIMESTAMPTZ
);
CREATE TABLE IF NOT EXISTS raw.ebank_events (
    event_id VARCHAR,
    user_id VARCHAR,
    ts TIMESTAMPTZ,
    channel VARCHAR,
    event_type VARCHAR,
    amount DECIMAL(18,2),
    currency VARCHAR,
    counterparty_name VARCHAR,
    counterparty_bank VARCHAR,
    cross_border BOOLEAN,
    product_code VARCHAR,
    _extra JSON,
    _load_id BIGINT,
    _source VARCHAR,
    _ingested_at TIMESTAMPTZ
);
