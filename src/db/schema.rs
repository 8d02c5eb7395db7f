//! The common schema of both backends, written by hand (see migrations/).

diesel::table! {
    jobs (id) {
        id -> Text,
        kind -> Text,
        payload -> Text,
        dedup_key -> Nullable<Text>,
        status -> Text,
        run_at -> Timestamp,
        attempts -> Integer,
        max_attempts -> Integer,
        last_error -> Nullable<Text>,
        locked_until -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    organizations (id) {
        id -> Text,
        name -> Text,
        kind -> Text,
        credit_code -> Text,
        region -> Text,
        description -> Text,
        enterprise_scale -> Nullable<Text>,
        service_categories -> Text,
        contact_name -> Nullable<Text>,
        contact_phone -> Nullable<Text>,
        status -> Text,
        reject_reason -> Nullable<Text>,
        created_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        verified_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    users (id) {
        id -> Text,
        email -> Text,
        password_hash -> Text,
        display_name -> Text,
        status -> Text,
        role -> Text,
        org_id -> Nullable<Text>,
        org_role -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    refresh_tokens (id) {
        id -> Text,
        user_id -> Text,
        family_id -> Text,
        token_hash -> Text,
        status -> Text,
        expires_at -> Timestamp,
        created_at -> Timestamp,
    }
}

diesel::table! {
    email_tokens (id) {
        id -> Text,
        user_id -> Text,
        purpose -> Text,
        token_hash -> Text,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    login_throttle (email) {
        email -> Text,
        failures -> Integer,
        window_start -> Timestamp,
        locked_until -> Nullable<Timestamp>,
        pending -> Integer,
        failed -> Integer,
    }
}

diesel::table! {
    org_invitations (id) {
        id -> Text,
        org_id -> Text,
        email -> Text,
        org_role -> Text,
        status -> Text,
        invited_by -> Text,
        expires_at -> Timestamp,
        decided_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    idempotent_requests (user_id, method, path, key) {
        user_id -> Text,
        method -> Text,
        path -> Text,
        key -> Text,
        fingerprint -> Text,
        status -> Integer,
        response -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    audit_log (id) {
        id -> Text,
        seq -> Nullable<BigInt>,
        actor_id -> Nullable<Text>,
        action -> Text,
        entity_type -> Text,
        entity_id -> Text,
        from_status -> Nullable<Text>,
        to_status -> Nullable<Text>,
        detail -> Nullable<Text>,
        at -> Timestamp,
        prev_hash -> Nullable<Text>,
        hash -> Nullable<Text>,
        sequenced_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    audit_checkpoints (size) {
        size -> BigInt,
        head -> Text,
        at -> Timestamp,
        signature -> Text,
    }
}

diesel::table! {
    notifications (id) {
        id -> Text,
        user_id -> Text,
        kind -> Text,
        title -> Text,
        body -> Text,
        entity_type -> Nullable<Text>,
        entity_id -> Nullable<Text>,
        read_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::joinable!(users -> organizations (org_id));
diesel::allow_tables_to_appear_in_same_query!(users, organizations);

diesel::table! {
    integrity_records (id) {
        id -> Text,
        org_id -> Nullable<Text>,
        user_id -> Nullable<Text>,
        severity -> Text,
        reason -> Text,
        expires_at -> Nullable<Timestamp>,
        lifted_at -> Nullable<Timestamp>,
        lift_reason -> Nullable<Text>,
        created_by -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    listings (id) {
        id -> Text,
        kind -> Text,
        org_id -> Text,
        created_by -> Text,
        title -> Text,
        body -> Text,
        field -> Text,
        keywords -> Text,
        transfer_modes -> Text,
        patent_numbers -> Text,
        trl -> Nullable<Integer>,
        price_fen -> Nullable<BigInt>,
        negotiable -> Bool,
        region -> Text,
        deadline -> Nullable<Date>,
        status -> Text,
        reject_reason -> Nullable<Text>,
        submitted_at -> Nullable<Timestamp>,
        published_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        first_matched_at -> Nullable<Timestamp>,
        confirmed_at -> Nullable<Timestamp>,
        deadline_reminded_at -> Nullable<Timestamp>,
        stale_reminded_at -> Nullable<Timestamp>,
        stale_notified_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    search_appearances (listing_id, day) {
        listing_id -> Text,
        day -> Date,
        n -> BigInt,
    }
}

diesel::table! {
    listing_vectors (listing_id) {
        listing_id -> Text,
        model -> Text,
        dim -> Integer,
        passage -> Binary,
        query -> Binary,
        updated_at -> Timestamp,
    }
}

diesel::joinable!(listing_vectors -> listings (listing_id));
diesel::allow_tables_to_appear_in_same_query!(listing_vectors, listings);

diesel::table! {
    subscriptions (id) {
        id -> Text,
        user_id -> Text,
        target -> Text,
        fields -> Text,
        keywords -> Text,
        region -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    digest_items (id) {
        id -> Text,
        user_id -> Text,
        target -> Text,
        entity_id -> Text,
        title -> Text,
        created_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    connections (id) {
        id -> Text,
        listing_id -> Text,
        listing_kind -> Text,
        listing_org_id -> Text,
        requester_org_id -> Text,
        requester_user_id -> Text,
        message -> Text,
        status -> Text,
        decline_reason_code -> Nullable<Text>,
        decline_reason -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        responded_at -> Nullable<Timestamp>,
        broker_id -> Nullable<Text>,
        broker_invited_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    connection_messages (id) {
        id -> Text,
        connection_id -> Text,
        author_user_id -> Text,
        author_org_id -> Text,
        body -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    challenges (id) {
        id -> Text,
        issuer_org_id -> Text,
        created_by -> Text,
        title -> Text,
        description -> Text,
        field -> Text,
        indicators -> Text,
        reward_fen -> BigInt,
        paid_fen -> BigInt,
        mode -> Text,
        directed_org_id -> Nullable<Text>,
        max_winners -> Integer,
        bid_deadline -> Timestamp,
        publicity_days -> Integer,
        eligible_kinds -> Text,
        status -> Text,
        reject_reason -> Nullable<Text>,
        cancel_reason -> Nullable<Text>,
        submitted_at -> Nullable<Timestamp>,
        opened_at -> Nullable<Timestamp>,
        awarded_at -> Nullable<Timestamp>,
        publicity_ends_at -> Nullable<Timestamp>,
        completed_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    challenge_milestones (id) {
        id -> Text,
        challenge_id -> Text,
        seq -> Integer,
        title -> Text,
        due_date -> Date,
        payment_fen -> BigInt,
    }
}

diesel::table! {
    bids (id) {
        id -> Text,
        challenge_id -> Text,
        org_id -> Text,
        created_by -> Text,
        proposal -> Text,
        budget_fen -> BigInt,
        plan -> Text,
        team -> Text,
        partner_org_ids -> Text,
        status -> Text,
        paid_fen -> BigInt,
        eliminated_reason -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    challenge_experts (challenge_id, expert_id) {
        challenge_id -> Text,
        expert_id -> Text,
        assigned_by -> Text,
        assigned_at -> Timestamp,
    }
}

diesel::table! {
    bid_scores (bid_id, expert_id) {
        bid_id -> Text,
        expert_id -> Text,
        technical -> Integer,
        team -> Integer,
        budget -> Integer,
        comment -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    milestone_progress (id) {
        id -> Text,
        challenge_id -> Text,
        milestone_id -> Text,
        bid_id -> Text,
        status -> Text,
        report -> Nullable<Text>,
        reject_reason -> Nullable<Text>,
        delivered_at -> Nullable<Timestamp>,
        accepted_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    challenge_payments (id) {
        id -> Text,
        challenge_id -> Text,
        bid_id -> Text,
        milestone_id -> Text,
        amount_fen -> BigInt,
        paid_at -> Timestamp,
    }
}

diesel::table! {
    voucher_programs (id) {
        id -> Text,
        name -> Text,
        year -> Integer,
        total_budget_fen -> BigInt,
        per_enterprise_cap_fen -> BigInt,
        coverage_ratio_bp -> Integer,
        service_categories -> Text,
        eligible_scales -> Text,
        valid_days -> Integer,
        applications_open -> Date,
        applications_close -> Date,
        settle_by -> Date,
        issued_fen -> BigInt,
        released_fen -> BigInt,
        settled_fen -> BigInt,
        created_by -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    voucher_applications (id) {
        id -> Text,
        program_id -> Text,
        enterprise_id -> Text,
        applicant_id -> Text,
        requested_fen -> BigInt,
        purpose -> Text,
        service_category -> Text,
        status -> Text,
        approved_fen -> Nullable<BigInt>,
        reject_reason -> Nullable<Text>,
        voucher_id -> Nullable<Text>,
        created_at -> Timestamp,
        decided_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    voucher_enterprise_totals (program_id, enterprise_id) {
        program_id -> Text,
        enterprise_id -> Text,
        net_fen -> BigInt,
    }
}

diesel::table! {
    vouchers (id) {
        id -> Text,
        code -> Text,
        program_id -> Text,
        enterprise_id -> Text,
        application_id -> Text,
        service_category -> Text,
        face_value_fen -> BigInt,
        balance_fen -> BigInt,
        reserved_fen -> BigInt,
        settled_fen -> BigInt,
        returned_fen -> BigInt,
        status -> Text,
        expires_at -> Timestamp,
        issued_at -> Timestamp,
        revoke_reason -> Nullable<Text>,
    }
}

diesel::table! {
    voucher_redemptions (id) {
        id -> Text,
        voucher_id -> Text,
        program_id -> Text,
        provider_org_id -> Text,
        created_by -> Text,
        service_fee_fen -> BigInt,
        amount_fen -> BigInt,
        invoice_no -> Text,
        description -> Text,
        status -> Text,
        reject_reason -> Nullable<Text>,
        created_at -> Timestamp,
        confirmed_at -> Nullable<Timestamp>,
        decided_at -> Nullable<Timestamp>,
        batch_id -> Nullable<Text>,
    }
}

diesel::table! {
    voucher_settlement_batches (id) {
        id -> Text,
        program_id -> Text,
        cut_off -> Date,
        redemption_count -> BigInt,
        total_fen -> BigInt,
        ids_sha256 -> Text,
        created_by -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    voucher_ledger (id) {
        id -> Text,
        program_id -> Text,
        voucher_id -> Text,
        redemption_id -> Nullable<Text>,
        kind -> Text,
        amount_fen -> BigInt,
        at -> Timestamp,
    }
}

diesel::table! {
    idempotency_keys (user_id, key) {
        user_id -> Text,
        key -> Text,
        fingerprint -> Text,
        status -> Integer,
        response -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    contracts (id) {
        id -> Text,
        kind -> Text,
        title -> Text,
        seller_org_id -> Text,
        buyer_org_id -> Text,
        created_by -> Text,
        achievement_id -> Nullable<Text>,
        demand_id -> Nullable<Text>,
        challenge_id -> Nullable<Text>,
        bid_id -> Nullable<Text>,
        connection_id -> Nullable<Text>,
        amount_fen -> BigInt,
        paid_fen -> BigInt,
        royalty_rate_bp -> Nullable<Integer>,
        status -> Text,
        seller_signed_at -> Nullable<Timestamp>,
        seller_signed_by -> Nullable<Text>,
        buyer_signed_at -> Nullable<Timestamp>,
        buyer_signed_by -> Nullable<Text>,
        registration_no -> Nullable<Text>,
        registered_amount_fen -> Nullable<BigInt>,
        registered_at -> Nullable<Timestamp>,
        terminate_reason -> Nullable<Text>,
        closed_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        broker_id -> Nullable<Text>,
        broker_org_id -> Nullable<Text>,
        commission_fen -> Nullable<BigInt>,
        commission_bp -> Nullable<Integer>,
    }
}

diesel::table! {
    contract_payment_plan (id) {
        id -> Text,
        contract_id -> Text,
        seq -> Integer,
        due_date -> Date,
        amount_fen -> BigInt,
    }
}

diesel::table! {
    contract_payments (id) {
        id -> Text,
        contract_id -> Text,
        amount_fen -> BigInt,
        paid_at -> Timestamp,
        reference -> Text,
        recorded_by -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    commercialization_reports (id) {
        id -> Text,
        contract_id -> Text,
        stage -> Text,
        stage_rank -> Integer,
        note -> Text,
        revenue_fen -> Nullable<BigInt>,
        reported_at -> Timestamp,
        reported_by -> Text,
        reporter_org_id -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    revenue_distributions (id) {
        id -> Text,
        contract_id -> Text,
        net_income_fen -> BigInt,
        inventor_share_bp -> Integer,
        inventor_pool_fen -> BigInt,
        beneficiaries -> Text,
        recorded_by -> Text,
        created_at -> Timestamp,
        broker_commission_fen -> BigInt,
    }
}

diesel::table! {
    registration_counters (year) {
        year -> Integer,
        last_no -> BigInt,
    }
}

diesel::table! {
    files (id) {
        id -> Text,
        storage_key -> Text,
        name -> Text,
        size -> BigInt,
        content_type -> Text,
        sha256 -> Text,
        purpose -> Text,
        uploaded_by -> Text,
        org_id -> Nullable<Text>,
        status -> Text,
        created_at -> Timestamp,
        attached_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    attachments (id) {
        id -> Text,
        file_id -> Text,
        record_type -> Text,
        record_id -> Text,
        purpose -> Text,
        attached_by -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    required_purposes (record_type, record_id) {
        record_type -> Text,
        record_id -> Text,
        purposes -> Text,
    }
}

diesel::table! {
    achievement_confidential (achievement_id) {
        achievement_id -> Text,
        text -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    access_requests (id) {
        id -> Text,
        achievement_id -> Text,
        org_id -> Text,
        requested_by -> Text,
        message -> Text,
        status -> Text,
        nda_text -> Nullable<Text>,
        nda_version -> Nullable<Text>,
        nda_sha256 -> Nullable<Text>,
        decided_by -> Nullable<Text>,
        decided_at -> Nullable<Timestamp>,
        reason -> Nullable<Text>,
        accepted_by -> Nullable<Text>,
        accepted_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::joinable!(attachments -> files (file_id));
diesel::allow_tables_to_appear_in_same_query!(attachments, files);
diesel::allow_tables_to_appear_in_same_query!(attachments, listings);

diesel::table! {
    match_events (id) {
        id -> Text,
        kind -> Text,
        org_id -> Text,
        source_listing_id -> Nullable<Text>,
        listing_id -> Text,
        rank -> Nullable<Integer>,
        mode -> Nullable<Text>,
        connection_id -> Nullable<Text>,
        reason -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    broker_profiles (id) {
        id -> Text,
        user_id -> Text,
        org_id -> Text,
        fields -> Text,
        certificate_no -> Text,
        years_of_practice -> Integer,
        bio -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::joinable!(broker_profiles -> users (user_id));
diesel::allow_tables_to_appear_in_same_query!(broker_profiles, users);
diesel::allow_tables_to_appear_in_same_query!(broker_profiles, organizations);

diesel::table! {
    instruments (id) {
        id -> Text,
        org_id -> Text,
        name -> Text,
        model -> Text,
        category -> Text,
        location -> Text,
        region -> Text,
        description -> Text,
        fee_per_hour_fen -> Nullable<BigInt>,
        fee_per_sample_fen -> Nullable<BigInt>,
        accessories -> Text,
        open_hours -> Text,
        weekly_open_hours -> Integer,
        training_required -> Bool,
        status -> Text,
        created_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    instrument_bookings (id) {
        id -> Text,
        instrument_id -> Text,
        org_id -> Text,
        requested_by -> Text,
        starts_at -> Timestamp,
        ends_at -> Timestamp,
        samples -> Nullable<Integer>,
        purpose -> Text,
        fee_fen -> BigInt,
        voucher_id -> Nullable<Text>,
        program_id -> Nullable<Text>,
        reserved_fen -> BigInt,
        redemption_id -> Nullable<Text>,
        status -> Text,
        reason -> Nullable<Text>,
        created_at -> Timestamp,
        decided_at -> Nullable<Timestamp>,
        finished_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(instrument_bookings -> instruments (instrument_id));
diesel::allow_tables_to_appear_in_same_query!(instrument_bookings, instruments);

diesel::table! {
    registration_offices (id) {
        id -> Text,
        org_id -> Text,
        region -> Text,
        created_by -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    registrations (id) {
        id -> Text,
        contract_id -> Text,
        region -> Text,
        status -> Text,
        declared_amount_fen -> BigInt,
        registered_amount_fen -> Nullable<BigInt>,
        registration_no -> Nullable<Text>,
        note -> Text,
        filed_by -> Text,
        filed_at -> Timestamp,
        due_on -> Date,
        overdue_notified_at -> Nullable<Timestamp>,
        reason -> Nullable<Text>,
        decided_by -> Nullable<Text>,
        decided_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    registration_steps (id) {
        id -> Text,
        registration_id -> Text,
        seq -> Integer,
        action -> Text,
        from_status -> Nullable<Text>,
        to_status -> Text,
        actor_id -> Text,
        note -> Nullable<Text>,
        detail -> Text,
        created_at -> Timestamp,
    }
}
