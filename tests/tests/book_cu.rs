//! Compute units of lib/book on the real SBF VM, through the no_std harness program
//! (lib/book/harness-sbf, built by scripts/build-book-harness.sh). Runs in the SBF pass of `.ci/run`
//! (SBF_OUT_DIR set); prints the table kept in docs/PERFORMANCE.md and checks the budgets.
// solana-program-test 3.1 marks its whole API deprecated ("Agave Unstable API"); it is the fixed
// test stack here.
#![allow(deprecated)]

use cfx_book::{order_id, Book, BookRef, EventQueue, OrderType, SelfTrade, Side};
use solana_program_test::{ProgramTest, ProgramTestContext};
use solana_sdk::{
    account::Account,
    instruction::{AccountMeta, Instruction},
    pubkey::Pubkey,
    rent::Rent,
    signature::Signer,
    transaction::Transaction,
};

const CAPACITY: usize = 4096;
const PER_SIDE: u32 = 1000;
const LEVELS: u64 = 100;
const LOTS: u64 = 10;

struct Harness {
    ctx: ProgramTestContext,
    program: Pubkey,
    book: Pubkey,
    queue: Pubkey,
    nonce: u64,
}

impl Harness {
    /// Sends one harness instruction and returns the compute units it used.
    async fn run(&mut self, mut data: Vec<u8>) -> u64 {
        self.nonce += 1;
        data.extend_from_slice(&self.nonce.to_le_bytes());
        let ix = Instruction {
            program_id: self.program,
            accounts: vec![
                AccountMeta::new(self.book, false),
                AccountMeta::new(self.queue, false),
            ],
            data,
        };
        let tx = Transaction::new_signed_with_payer(
            &[ix],
            Some(&self.ctx.payer.pubkey()),
            &[&self.ctx.payer],
            self.ctx.last_blockhash,
        );
        let res = self
            .ctx
            .banks_client
            .process_transaction_with_metadata(tx)
            .await
            .unwrap();
        let meta = res.metadata.expect("metadata");
        assert!(
            res.result.is_ok(),
            "harness failed: {:?}\n{:#?}",
            res.result,
            meta.log_messages
        );
        meta.compute_units_consumed
    }

    async fn book_data(&mut self) -> Vec<u64> {
        let acc = self
            .ctx
            .banks_client
            .get_account(self.book)
            .await
            .unwrap()
            .unwrap();
        let mut words = vec![0u64; acc.data.len() / 8];
        bytemuck::cast_slice_mut::<u64, u8>(&mut words).copy_from_slice(&acc.data);
        words
    }
}

fn place(
    side: Side,
    ot: OrderType,
    price: u64,
    lots: u64,
    owner: u32,
    match_limit: u32,
) -> Vec<u8> {
    let mut d = vec![1, side as u8, ot as u8, SelfTrade::DecrementTake as u8, 0];
    d.extend_from_slice(&owner.to_le_bytes());
    d.extend_from_slice(&price.to_le_bytes());
    d.extend_from_slice(&lots.to_le_bytes());
    d.extend_from_slice(&7u64.to_le_bytes()); // client order id
    d.extend_from_slice(&0u64.to_le_bytes()); // expiry
    d.extend_from_slice(&match_limit.to_le_bytes());
    d.extend_from_slice(&1_000u64.to_le_bytes()); // now
    d
}

fn fill(side: Side, n: u32, first_price: u64) -> Vec<u8> {
    let mut d = vec![3, side as u8];
    d.extend_from_slice(&n.to_le_bytes());
    d.extend_from_slice(&first_price.to_le_bytes());
    d.extend_from_slice(&LEVELS.to_le_bytes());
    d.extend_from_slice(&LOTS.to_le_bytes());
    d
}

fn cancel(id: u128, owner: u32) -> Vec<u8> {
    let mut d = vec![2];
    d.extend_from_slice(&id.to_le_bytes());
    d.extend_from_slice(&owner.to_le_bytes());
    d
}

fn median(mut v: Vec<u64>) -> u64 {
    v.sort_unstable();
    v[v.len() / 2]
}

#[tokio::test]
async fn book_compute_units() {
    let Some(dir) = std::env::var_os("SBF_OUT_DIR") else {
        eprintln!(
            "book_compute_units: skipped, SBF_OUT_DIR is not set (the SBF pass of .ci/run sets it)"
        );
        return;
    };
    let so = std::path::Path::new(&dir).join("book_harness.so");
    assert!(
        so.exists(),
        "{} is missing: run scripts/build-book-harness.sh",
        so.display()
    );

    let program: Pubkey = "FHs1NDTBKD7jMyTrqNk5mxf76H9CL3PtPVaDxhD6osyX"
        .parse()
        .unwrap();
    let mut pt = ProgramTest::default();
    pt.prefer_bpf(true);
    pt.add_program("book_harness", program, None);
    pt.set_compute_max_units(1_400_000);
    let book = Pubkey::new_unique();
    let queue = Pubkey::new_unique();
    for (key, len) in [
        (book, Book::size_for(CAPACITY)),
        (queue, EventQueue::size_for(256)),
    ] {
        pt.add_account(
            key,
            Account {
                lamports: Rent::default().minimum_balance(len),
                data: vec![0; len],
                owner: program,
                executable: false,
                rent_epoch: 0,
            },
        );
    }
    let mut h = Harness {
        ctx: pt.start_with_context().await,
        program,
        book,
        queue,
        nonce: 0,
    };
    h.ctx.warp_to_slot(5).unwrap();

    h.run(vec![0]).await;
    for _ in 0..PER_SIDE / 250 {
        h.run(fill(Side::Ask, 250, 10_001)).await;
        h.run(fill(Side::Bid, 250, 9_999)).await;
    }
    {
        let words = h.book_data().await;
        let b = BookRef::load(bytemuck::cast_slice(&words)).unwrap();
        assert_eq!(
            (b.bids.len(), b.asks.len()),
            (PER_SIDE as usize, PER_SIDE as usize)
        );
        assert_eq!(
            (b.bids.best_price(), b.asks.best_price()),
            (Some(9_999), Some(10_001))
        );
    }
    let mut baseline = Vec::new();
    for _ in 0..5 {
        baseline.push(h.run(vec![5]).await);
    }
    let baseline = median(baseline);
    // Harness cost of loading the accounts and parsing an order, without placing it.
    let mut parse = Vec::new();
    for _ in 0..5 {
        let mut d = place(Side::Bid, OrderType::PostOnly, 9_950, 5, 1, 4);
        d[0] = 6;
        parse.push(h.run(d).await);
    }
    let order_baseline = median(parse);

    // Post-only bids joining existing levels of a side holding 1,000 orders.
    let mut post = Vec::new();
    let mut posted = Vec::new();
    for i in 0..20u64 {
        let price = 9_999 - (i * 7) % LEVELS;
        post.push(
            h.run(place(Side::Bid, OrderType::PostOnly, price, 5, 1, 4))
                .await,
        );
        // The book numbers orders in placement order: 2,000 setup orders came first.
        posted.push(order_id(Side::Bid, price, 2 * PER_SIDE as u64 + i));
    }
    // Cancel them again.
    let mut cancels = Vec::new();
    for id in posted {
        cancels.push(h.run(cancel(id, 1)).await);
    }
    // Takers crossing 1 and 10 makers (each maker holds LOTS); refill the taken liquidity.
    let mut take1 = Vec::new();
    let mut take10 = Vec::new();
    for _ in 0..10 {
        take1.push(
            h.run(place(
                Side::Bid,
                OrderType::ImmediateOrCancel,
                10_001,
                LOTS,
                2,
                16,
            ))
            .await,
        );
        h.run(vec![4]).await;
        take10.push(
            h.run(place(
                Side::Bid,
                OrderType::ImmediateOrCancel,
                10_010,
                10 * LOTS,
                2,
                16,
            ))
            .await,
        );
        h.run(vec![4]).await;
        h.run(fill(Side::Ask, 11, 10_001)).await;
    }
    let words = h.book_data().await;
    let b = BookRef::load(bytemuck::cast_slice(&words)).unwrap();
    assert_eq!(
        b.asks.len(),
        PER_SIDE as usize,
        "every taken maker was replaced"
    );
    b.asks.check().unwrap();
    b.bids.check().unwrap();

    let (post, cancel_cu, t1, t10) = (median(post), median(cancels), median(take1), median(take10));
    let per_maker = (t10 - t1) / 9;
    let table = format!(
        "### lib/book on the SBF VM (harness, median of 10-20 runs)\n\n\
         Engine = whole instruction minus the harness's own work: {order_baseline} CU to load the book and\n\
         queue and parse an order (place), {baseline} CU to load them (cancel).\n\n\
         | operation (book of 1,000 orders per side, 100 levels) | CU, whole instruction | CU, engine |\n\
         |---|---|---|\n\
         | post-only order joins a level | {post} | {} |\n\
         | cancel one order | {cancel_cu} | {} |\n\
         | IOC taker fills 1 maker | {t1} | {} |\n\
         | IOC taker fills 10 makers | {t10} | {} |\n\
         | each extra maker filled | {per_maker} | {per_maker} |\n",
        post - order_baseline,
        cancel_cu - baseline,
        t1 - order_baseline,
        t10 - order_baseline
    );
    println!("{table}");
    if let Some(dir) = std::env::var_os("CFX_CU_DIR") {
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(std::path::Path::new(&dir).join("book.md"), &table).unwrap();
    }
    assert!(
        post - order_baseline <= 1_500,
        "post costs {} CU",
        post - order_baseline
    );
    assert!(
        cancel_cu - baseline <= 1_500,
        "cancel costs {} CU",
        cancel_cu - baseline
    );
    assert!(per_maker <= 1_200, "each maker costs {per_maker} CU");
}
