-- Contribution (综合贡献度): what each party brings per month, rebuilt by
-- cdp tiers (transforms/tiers/contribution.sql), and its last twelve
-- months beside the tier. Created empty here so the 360, the SQL endpoint
-- and the console can read them before the first build.
CREATE TABLE IF NOT EXISTS mart.contribution (
    party_id VARCHAR, party_type VARCHAR, month DATE, first_day DATE, last_day DATE, days INTEGER,
    loan_adb DECIMAL(18,2), loan_interest DECIMAL(18,2), loan_ftp DECIMAL(18,2), loan_nii DECIMAL(18,2),
    deposit_adb DECIMAL(18,2), deposit_interest DECIMAL(18,2), deposit_ftp DECIMAL(18,2), deposit_nii DECIMAL(18,2),
    investment_adb DECIMAL(18,2),
    fee_wealth_sales DECIMAL(18,2), fee_wealth_management DECIMAL(18,2), fee_card DECIMAL(18,2), fee_card_interchange DECIMAL(18,2),
    fee_settlement DECIMAL(18,2), fee_fx DECIMAL(18,2), fee_bill DECIMAL(18,2), fee_cash_management DECIMAL(18,2),
    fee_income DECIMAL(18,2), nii DECIMAL(18,2), contribution DECIMAL(18,2),
    loan_interest_delivered DECIMAL(18,2), loan_interest_difference DECIMAL(18,2), loans_unpriced INTEGER, deposits_unpriced INTEGER
);
CREATE TABLE IF NOT EXISTS mart.contribution_12m (
    party_id VARCHAR, party_type VARCHAR, tier VARCHAR, tier_zh VARCHAR,
    contribution_12m DECIMAL(38,2), nii_12m DECIMAL(38,2), fee_income_12m DECIMAL(38,2), days INTEGER,
    from_month DATE, to_month DATE, contribution_rank BIGINT, top_pct INTEGER, as_of DATE
);
